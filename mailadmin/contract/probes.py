"""PostgreSQL's lookups as ordered probes that stop at the first hit.

Each Postfix table reads a view, and most views are unions of branches (an alias, a mailbox
answering for itself, an alias domain's rewrite, the role addresses, a disabled domain, …)
whose key's domain is first mapped through the two-branch domain view (its U-label). Run as
the view query, a lookup pays every branch for every key: ~350 µs an alias lookup where
PostfixAdmin's one-table query takes ~150 (docs/benchmarks.md, L7), and a mailbox lookup
five probes for one row (L8). For one key at most one branch can answer, because the branches
exclude one another: a key's domain is a hosted domain or an alias domain (the services keep
the two names apart), its name is an A-label and its U-label never ASCII, and inside a domain
an active alias hides the mailbox of the same address, a mailbox hides an alias-domain alias,
any of them hides a role fallback, and a disabled domain refuses before any mailbox is asked.
So each function finds the key's domain by name (by U-label only on a miss), then probes its
branches in that order and returns at the first that answers: a mailbox key costs two unique
index probes in the mailbox map and three in the alias map.

The views stay the contract and the definition: these bodies read the tables behind them,
and tests/contract/test_lookup_functions.py (the scenario) and test_domain_states.py (every
domain and mailbox state) ask every function and its view the same keys. The functions keep
the signatures, owner rights and pinned search_path of queries.py's. A change here reaches a
database only through a new contract migration that freezes the new bodies (0009, 0010).
"""

from __future__ import annotations

from .views_v1 import (
    DISABLED_ACTION,
    DOMAIN_DISABLED_ACTION,
    HOSTED,
    RELAYED,
    ROLE_LOCAL_PARTS,
)

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

# Only the key "@domain" reaches a catch-all: an alias with an empty local part in a hosted
# domain, and in an alias domain the target's catch-all, which Postfix then looks up.
VIRTUAL_ALIAS_CATCHALL_MAPS = f"""
DECLARE
  k_domain text COLLATE "default" := p_domain;
  v_domain_id bigint;
  v_domain text;
  v_ok boolean;
  v_via text;
  v_alias_id bigint;
BEGIN
  IF substr(p_raw_key, 1, 1) <> '@' THEN
    RETURN;
  END IF;{_FIND_DOMAIN}
  SELECT a.id INTO v_alias_id FROM mailboxes_alias a
   WHERE a.domain_id = v_domain_id AND a.local_part = '' AND a.active;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF v_via IS NULL THEN
    RETURN QUERY SELECT t.address::text FROM mailboxes_aliasdestination t
                  WHERE t.alias_id = v_alias_id;
  ELSE
    RETURN NEXT '@' || v_domain;
  END IF;
  RETURN;
END"""

# check_recipient_access: every address of a disabled domain or alias domain (whatever the
# domain's delivery) is refused, and in an enabled hosted domain an inactive mailbox that no
# active alias answers for. The U-label of an alias domain counts only when its target is
# hosted: the domain view, through which the view query maps U-labels, lists no other.
RECIPIENT_ACCESS = f"""
DECLARE
  k_domain text COLLATE "default" := p_domain;
  k_local text COLLATE "default" := p_local;
  v_domain_id bigint;
  v_enabled boolean;
  v_hosted boolean;
  v_mailbox_active boolean;
BEGIN
  SELECT d.id, d.active, d.delivery = 'hosted' INTO v_domain_id, v_enabled, v_hosted
    FROM domains_domain d WHERE d.name = k_domain;
  IF NOT FOUND THEN
    SELECT d.id, ad.active AND d.active, d.delivery = 'hosted'
      INTO v_domain_id, v_enabled, v_hosted
      FROM domains_aliasdomain ad JOIN domains_domain d ON d.id = ad.target_id
     WHERE ad.name = k_domain;
  END IF;
  IF NOT FOUND THEN
    SELECT d.id, d.active, d.delivery = 'hosted' INTO v_domain_id, v_enabled, v_hosted
      FROM domains_domain d WHERE d.unicode_key = k_domain;
  END IF;
  IF NOT FOUND THEN
    SELECT d.id, ad.active AND d.active, true INTO v_domain_id, v_enabled, v_hosted
      FROM domains_aliasdomain ad JOIN domains_domain d ON d.id = ad.target_id
     WHERE ad.unicode_key = k_domain AND d.delivery = 'hosted';
  END IF;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF NOT v_enabled THEN
    RETURN NEXT '{DOMAIN_DISABLED_ACTION}';
    RETURN;
  END IF;
  IF NOT v_hosted THEN
    RETURN;
  END IF;
  SELECT m.active INTO v_mailbox_active FROM mailboxes_mailbox m
   WHERE m.domain_id = v_domain_id AND m.local_part = k_local;
  IF FOUND AND NOT v_mailbox_active AND NOT EXISTS (
       SELECT 1 FROM mailboxes_alias a
        WHERE a.domain_id = v_domain_id AND a.local_part = k_local AND a.active) THEN
    RETURN NEXT '{DISABLED_ACTION}';
  END IF;
  RETURN;
END"""


def _by_name_then_u_label(select: str, name: str, u_label: str, key: str) -> str:
    """`select` (a query with WHERE, ending in a placeholder {column}) asked by the domain's
    name, and only on a miss by its U-label (names are A-labels, U-labels never ASCII, so the
    two never meet): the common key costs the one probe of the name's index."""
    return f"""
  RETURN QUERY {select.format(column=name)} = {key};
  IF NOT FOUND THEN
    RETURN QUERY {select.format(column=u_label)} = {key};
  END IF;
  RETURN;"""


def _domain_map(column: str, condition: str, *, alias_domains: bool = False) -> str:
    """A bare-domain table: `column` of the hosted, relay or backup domain (or, with
    `alias_domains`, of the alias domain of a hosted domain) named by the key."""
    if alias_domains:
        source, prefix = "domains_aliasdomain ad JOIN domains_domain d ON d.id = ad.target_id", "ad"
    else:
        source, prefix = "domains_domain d", "d"
    select = f"SELECT {column}::text FROM {source} WHERE {condition} AND {{column}}"
    probes = _by_name_then_u_label(select, f"{prefix}.name", f"{prefix}.unicode_key", "k_key")
    return f"""
DECLARE
  k_key text COLLATE "default" := p_key;
BEGIN{probes}
END"""


def _mailbox_map(column: str) -> str:
    """`column` of the active mailbox of an active hosted domain: one statement, the domain's
    name and then the mailbox's (domain, local part), both unique indexes."""
    select = (
        f"SELECT {column}::text FROM domains_domain d"
        " JOIN mailboxes_mailbox m ON m.domain_id = d.id"
        f" WHERE m.local_part = k_local AND m.active AND {HOSTED} AND {{column}}"
    )
    probes = _by_name_then_u_label(select, "d.name", "d.unicode_key", "k_domain")
    return f"""
DECLARE
  k_domain text COLLATE "default" := p_domain;
  k_local text COLLATE "default" := p_local;
BEGIN{probes}
END"""


# The server's default uid and gid, read only for a mailbox and domain that set none
# (COALESCE stops at its first value, and the subquery runs at most once a call).
def _owner(column: str) -> str:
    return (
        f"COALESCE(m.{column}, d.{column},"
        f" (SELECT s.default_{column} FROM domains_serversettings s WHERE s.id = 1))"
    )


# relay_recipient_maps: a listed recipient of an active relay or backup-MX domain, and the
# domain itself when it accepts every recipient; both rows when both hold, as the view.
RELAY_RECIPIENT_MAPS = f"""
DECLARE
  k_domain text COLLATE "default" := p_domain;
  k_local text COLLATE "default" := p_local;
  v_domain_id bigint;
  v_domain text;
  v_any boolean;
BEGIN
  SELECT d.id, d.name, d.relay_accept_any INTO v_domain_id, v_domain, v_any
    FROM domains_domain d WHERE d.name = k_domain AND {RELAYED};
  IF NOT FOUND THEN
    SELECT d.id, d.name, d.relay_accept_any INTO v_domain_id, v_domain, v_any
      FROM domains_domain d WHERE d.unicode_key = k_domain AND {RELAYED};
  END IF;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY SELECT v_domain FROM domains_relayrecipient r
                WHERE r.domain_id = v_domain_id AND r.local_part IN (k_local, '');
  IF v_any THEN
    RETURN NEXT v_domain;
  END IF;
  RETURN;
END"""

# Lookup table -> the body of its PostgreSQL function (queries.LookupFunction): every table.
ORDERED_BODIES: dict[str, str] = {
    "virtual_mailbox_domains": _domain_map("d.name", "d.delivery = 'hosted'"),
    "virtual_alias_domains": _domain_map("ad.name", "d.delivery = 'hosted'", alias_domains=True),
    "relay_domains": _domain_map("d.name", "d.delivery IN ('relay', 'backup')"),
    "transport_maps": _domain_map("d.transport", "d.transport <> ''"),
    "virtual_mailbox_maps": _mailbox_map("m.path"),
    "virtual_uid_maps": _mailbox_map(_owner("uid")),
    "virtual_gid_maps": _mailbox_map(_owner("gid")),
    "virtual_alias_maps": VIRTUAL_ALIAS_MAPS,
    "virtual_alias_catchall_maps": VIRTUAL_ALIAS_CATCHALL_MAPS,
    "smtpd_sender_login_maps": SMTPD_SENDER_LOGIN_MAPS,
    "recipient_access": RECIPIENT_ACCESS,
    "relay_recipient_maps": RELAY_RECIPIENT_MAPS,
}
