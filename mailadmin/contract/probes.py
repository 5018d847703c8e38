"""PostgreSQL's multi-branch lookups as ordered probes that stop at the first hit.

The alias and sender-login views are unions of branches (an alias, a mailbox answering for
itself, an alias domain's rewrite, the role addresses, …), and a lookup through them runs
every branch for every key: ~350 µs a lookup where PostfixAdmin's one-table query takes
~150 (docs/benchmarks.md, L7). For one key at most one branch can answer, because the branches
exclude one another: a key's domain is a hosted domain or an alias domain (the services keep
the two names apart), and inside a domain an active alias hides the mailbox of the same
address, a mailbox hides an alias-domain alias, and any of them hides a role fallback. So
the functions find the key's domain, then probe its branches in that order and return at the
first that answers: a mailbox key costs a domain probe, an alias probe and a mailbox probe,
each a unique index.

The views stay the contract and the definition: these bodies read the tables behind them,
and tests/contract/test_lookup_functions.py asks every function and its view the same keys.
The functions keep the signatures, owner rights and pinned search_path of queries.py's.
"""

from __future__ import annotations

from .views_v1 import ROLE_LOCAL_PARTS

_ROLES = ", ".join(f"'{role}'" for role in ROLE_LOCAL_PARTS)

# The key's domain: a hosted domain by its name, else an alias domain by its name, else the
# same by U-label (an IDN domain's key as Postfix folds it; ASCII names have none). Sets
# v_domain_id and v_domain (the hosted domain, or the alias domain's target) and v_ok (all
# the view's conditions on them), and v_via, the alias domain's name when the key is in one.
_FIND_DOMAIN = """
  SELECT d.id, d.name, d.active AND d.delivery = 'hosted'
    INTO v_domain_id, v_domain, v_ok
    FROM domains_domain d WHERE d.name = k_domain;
  IF NOT FOUND THEN
    SELECT d.id, d.name, ad.active AND d.active AND d.delivery = 'hosted', ad.name
      INTO v_domain_id, v_domain, v_ok, v_via
      FROM domains_aliasdomain ad JOIN domains_domain d ON d.id = ad.target_id
     WHERE ad.name = k_domain;
  END IF;
  IF NOT FOUND THEN
    SELECT d.id, d.name, d.active AND d.delivery = 'hosted'
      INTO v_domain_id, v_domain, v_ok
      FROM domains_domain d WHERE d.unicode_key = k_domain;
  END IF;
  IF NOT FOUND THEN
    SELECT d.id, d.name, ad.active AND d.active AND d.delivery = 'hosted', ad.name
      INTO v_domain_id, v_domain, v_ok, v_via
      FROM domains_aliasdomain ad JOIN domains_domain d ON d.id = ad.target_id
     WHERE ad.unicode_key = k_domain;
  END IF;
  IF NOT FOUND OR NOT v_ok THEN
    RETURN;
  END IF;"""

_DECLARE = """
DECLARE
  -- A local variable takes the collation of the call's arguments unless it names one, and
  -- the exported call's keys are of collation "C", which no index answers (L5).
  k_domain text COLLATE "default" := p_domain;
  k_local text COLLATE "default" := p_local;
  v_domain_id bigint;
  v_domain text;
  v_ok boolean;
  v_via text;
  v_alias_id bigint;
  v_active boolean;
  v_postmaster text;"""

# The role addresses nobody set up answer with the server's postmaster; the caller has
# already found no mailbox and no active alias on the key itself.
_ROLE_FALLBACK = f"""
  IF k_local IN ({_ROLES}) AND NOT EXISTS (
       SELECT 1 FROM mailboxes_alias a
        WHERE a.domain_id = v_domain_id AND a.local_part = '' AND a.active) THEN
    SELECT s.postmaster_address INTO v_postmaster FROM domains_serversettings s WHERE s.id = 1;
    IF v_postmaster <> '' THEN
      RETURN NEXT v_postmaster;
    END IF;
  END IF;"""

VIRTUAL_ALIAS_MAPS = f"""{_DECLARE}
BEGIN{_FIND_DOMAIN}
  SELECT a.id INTO v_alias_id FROM mailboxes_alias a
   WHERE a.domain_id = v_domain_id AND a.local_part = k_local AND a.active;
  IF v_via IS NULL THEN
    -- A hosted domain: its alias (catch-all included), else the mailbox answering for itself.
    IF FOUND THEN
      RETURN QUERY SELECT t.address::text FROM mailboxes_aliasdestination t
                    WHERE t.alias_id = v_alias_id;
      RETURN;
    END IF;
    PERFORM 1 FROM mailboxes_mailbox m
      WHERE m.domain_id = v_domain_id AND m.local_part = k_local;
    IF FOUND THEN
      RETURN NEXT k_local || '@' || v_domain;
      RETURN;
    END IF;
  ELSE
    -- An alias domain rewrites the target's existing addresses, and its catch-all key to
    -- the target's catch-all.
    IF k_local = '' THEN
      IF FOUND THEN
        RETURN NEXT '@' || v_domain;
      END IF;
      RETURN;
    END IF;
    PERFORM 1 FROM mailboxes_mailbox m
      WHERE m.domain_id = v_domain_id AND m.local_part = k_local;
    IF FOUND OR v_alias_id IS NOT NULL THEN
      RETURN NEXT k_local || '@' || v_domain;
      RETURN;
    END IF;
  END IF;{_ROLE_FALLBACK}
  RETURN;
END"""

SMTPD_SENDER_LOGIN_MAPS = f"""{_DECLARE}
BEGIN{_FIND_DOMAIN}
  -- A mailbox sends as itself (an alias on its own address grants nothing) ...
  SELECT m.active INTO v_active FROM mailboxes_mailbox m
   WHERE m.domain_id = v_domain_id AND m.local_part = k_local;
  IF FOUND THEN
    IF v_active THEN
      RETURN NEXT k_local || '@' || v_domain;
    END IF;
    RETURN;
  END IF;
  -- ... and the mailboxes an alias delivers to send as the alias.
  IF k_local <> '' THEN
    RETURN QUERY SELECT t.address::text
                   FROM mailboxes_alias a JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
                  WHERE a.domain_id = v_domain_id AND a.local_part = k_local AND a.active;
  END IF;
  RETURN;
END"""

# Lookup table -> the body of its PostgreSQL function (queries.LookupFunction).
ORDERED_BODIES: dict[str, str] = {
    "virtual_alias_maps": VIRTUAL_ALIAS_MAPS,
    "smtpd_sender_login_maps": SMTPD_SENDER_LOGIN_MAPS,
}
