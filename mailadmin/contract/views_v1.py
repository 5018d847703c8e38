"""Version 1 of the mail-stack contract: the SQL views Postfix and Dovecot read.

The views are the public interface of mailadmin's database. Tables behind them may change;
the view names, columns and meaning may not without a new version (views_v2.py and a migration).
Every lookup the generated configuration makes filters on (domain, local_part) or on domain,
which reach the unique indexes of the tables through the views, so each is one indexed query.

Views (columns):
- mailadmin_postfix_domain (domain, kind, transport, active, unicode_domain): every domain,
  active or not; kind is hosted, relay, backup or alias (an alias domain of a hosted domain,
  active when it and its target are). A disabled domain stays one of ours, so that Postfix
  refuses its mail (recipient_access) instead of relaying it for mynetworks and SASL clients.
  unicode_domain is the U-label of an IDN domain as Postfix folds an SMTPUTF8 key (NULL for
  ASCII names): the lookups map such a key to the stored A-label (files.py, DOMAIN_KEY).
- mailadmin_postfix_mailbox (local_part, domain, maildir, uid, gid): deliverable mailboxes;
  uid/gid resolved mailbox > domain > server default.
- mailadmin_postfix_alias (local_part, domain, destination): virtual_alias_maps, one row per
  destination. Catch-alls have an empty local part. Every mailbox that has no alias answers for
  itself, so that a catch-all never takes a real mailbox's mail. In an alias domain each
  address of the target answers with the target address, and the alias domain gets a
  catch-all only when its target has one, so unknown users are refused at RCPT time.
  postmaster@ and abuse@ of every active hosted domain and alias domain that has no mailbox,
  alias or catch-all for them answer with the server's postmaster address
  (domains_serversettings.postmaster_address; RFC 5321 4.5.1, RFC 2142).
- mailadmin_postfix_sender_login (local_part, domain, login): smtpd_sender_login_maps; a
  mailbox sends as itself and as the aliases that deliver to it, in alias domains too. An
  alias on a mailbox's own address (forwarding) grants nothing: the forward's destinations
  receive the owner's mail, they do not become the owner.
- mailadmin_postfix_recipient_access (local_part, domain, action): check_recipient_access
  answers for disabled mailboxes, in their domain and its alias domains, and with an empty
  local part for every address of a disabled domain (any kind) or alias domain. An inactive mailbox
  still answers for itself in mailadmin_postfix_alias (the catch-all must not take its mail),
  so without this table smtpd would accept its mail and virtual(8) bounce it later.
- mailadmin_postfix_relay_recipient (local_part, domain): relay_recipient_maps; the listed
  recipients of active relay and backup-MX domains, and an empty local part for the domains
  that accept every recipient (relay_accept_any).
- mailadmin_dovecot_userdb (username, local_part, domain, home, maildir, format, uid, gid,
  quota_bytes): paths relative to the mail base.
- mailadmin_dovecot_passdb (username, local_part, domain, password): the only view with hashes.
- mailadmin_dovecot_sieve (username, name, data_id, script): the panel's Sieve script of every
  mailbox for Pigeonhole's dict storage (name "panel"); a mailbox whose owner never changed
  a rule gets the default script (DEFAULT_SIEVE_SCRIPT: spam-flagged mail to Junk).
- mailadmin_dovecot_owner (username, language): the owner's language ("" for English), for
  the quota warnings Dovecot writes.

Besides the views, one table belongs to the contract: mailadmin_quota_usage, written by
Dovecot's quota_clone (usage_table.py), the only table a mail-stack role may write.
"""

from __future__ import annotations

POSTFIX_VIEWS = (
    "mailadmin_postfix_domain",
    "mailadmin_postfix_mailbox",
    "mailadmin_postfix_alias",
    "mailadmin_postfix_sender_login",
    "mailadmin_postfix_recipient_access",
    "mailadmin_postfix_relay_recipient",
)
DOVECOT_VIEWS = (
    "mailadmin_dovecot_userdb",
    "mailadmin_dovecot_passdb",
    "mailadmin_dovecot_sieve",
    "mailadmin_dovecot_owner",
)
ALL_VIEWS = POSTFIX_VIEWS + DOVECOT_VIEWS

# Booleans are true/false in PostgreSQL and 1/0 in MariaDB and SQLite; a bare column is a
# valid condition in all three.
HOSTED = "d.active AND d.delivery = 'hosted'"
# An access(5) result: refuse at RCPT time with a permanent "mailbox disabled" status.
DISABLED_ACTION = "550 5.2.1 Mailbox disabled"
# Every address of a disabled domain: permanent too, it is the admin's decision, as for a
# mailbox (docs/mail-stack.md, "Disabled domains").
DOMAIN_DISABLED_ACTION = "550 5.2.1 Domain disabled"
# The script of every mailbox whose owner has not changed its rules (sieve/script.py writes
# the same text for the default settings). A new text needs a new id: Pigeonhole keeps the
# compiled script by id.
DEFAULT_SIEVE_ID = "default-1"
DEFAULT_SIEVE_SCRIPT = (
    'require ["fileinto", "mailbox"];\n'
    "# Spam-flagged mail goes to Junk (SpamAssassin: X-Spam-Flag, rspamd: X-Spam).\n"
    'if anyof (header :is "X-Spam-Flag" "YES", header :is "X-Spam" "Yes") {\n'
    '  fileinto :create "Junk";\n'
    "}\n"
)
# The role addresses every hosted domain answers for, RFC 5321 4.5.1 and RFC 2142.
ROLE_LOCAL_PARTS = ("postmaster", "abuse")


RELAYED = "d.active AND d.delivery IN ('relay', 'backup')"


def _role_fallbacks() -> list[str]:
    """The alias rows of the role addresses nobody set up: to the server's postmaster."""
    branches = []
    for role in ROLE_LOCAL_PARTS:
        unset = f"""s.postmaster_address <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = d.id AND m.local_part = '{role}')
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = d.id AND a.local_part IN ('{role}', '') AND a.active)"""
        branches.append(f"""
UNION ALL
SELECT '{role}', d.name, s.postmaster_address
  FROM domains_domain d
  JOIN domains_serversettings s ON s.id = 1
 WHERE {HOSTED}
   AND {unset}
UNION ALL
SELECT '{role}', ad.name, s.postmaster_address
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN domains_serversettings s ON s.id = 1
 WHERE ad.active AND {HOSTED}
   AND {unset}""")
    return branches


def _concat(dialect: str, *parts: str) -> str:
    if dialect == "mysql":
        return "CONCAT(" + ", ".join(parts) + ")"
    return " || ".join(parts)


def _home(dialect: str) -> str:
    return _concat(dialect, "d.name", "'/'", "m.local_part")


def view_statements(dialect: str) -> list[tuple[str, str]]:
    """(view name, SELECT body) for `dialect`: pgsql, mysql or sqlite."""
    address = _concat(dialect, "m.local_part", "'@'", "d.name")
    alias_address = _concat(dialect, "a.local_part", "'@'", "d.name")
    catchall_target = _concat(dialect, "'@'", "d.name")
    settings_join = "LEFT JOIN domains_serversettings s ON s.id = 1"
    # The domain-wide rows of recipient_access: on PostgreSQL typed as the local parts of the
    # other branches, so that the view's column keeps its type (CREATE OR REPLACE VIEW cannot
    # change it on a database whose view predates these rows).
    no_local_part = "CAST('' AS varchar(64))" if dialect == "pgsql" else "''"
    return [
        (
            "mailadmin_postfix_domain",
            """
SELECT d.name AS domain, d.delivery AS kind, d.transport AS transport, d.active AS active,
       d.unicode_key AS unicode_domain
  FROM domains_domain d
UNION ALL
SELECT ad.name, 'alias', '', ad.active AND d.active, ad.unicode_key
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE d.delivery = 'hosted'""",
        ),
        (
            "mailadmin_postfix_mailbox",
            f"""
SELECT m.local_part AS local_part, d.name AS domain, m.path AS maildir,
       COALESCE(m.uid, d.uid, s.default_uid) AS uid,
       COALESCE(m.gid, d.gid, s.default_gid) AS gid
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
  {settings_join}
 WHERE m.active AND {HOSTED}""",
        ),
        (
            "mailadmin_postfix_alias",
            f"""
SELECT a.local_part AS local_part, d.name AS domain, t.address AS destination
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE a.active AND {HOSTED}
UNION ALL
SELECT m.local_part, d.name, {address}
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE {HOSTED}
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT m.local_part, ad.name, {address}
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND {HOSTED}
UNION ALL
SELECT a.local_part, ad.name, {alias_address}
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_alias a ON a.domain_id = d.id
 WHERE ad.active AND {HOSTED} AND a.active AND a.local_part <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)
UNION ALL
SELECT '', ad.name, {catchall_target}
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE ad.active AND {HOSTED}
   AND EXISTS (SELECT 1 FROM mailboxes_alias a
                WHERE a.domain_id = d.id AND a.local_part = '' AND a.active)"""
            + "".join(_role_fallbacks()),
        ),
        (
            "mailadmin_postfix_sender_login",
            f"""
SELECT m.local_part AS local_part, d.name AS domain, {address} AS login
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE m.active AND {HOSTED}
UNION ALL
SELECT a.local_part, d.name, t.address
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE a.active AND a.local_part <> '' AND {HOSTED}
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)
UNION ALL
SELECT m.local_part, ad.name, {address}
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND m.active AND {HOSTED}
UNION ALL
SELECT a.local_part, ad.name, t.address
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_alias a ON a.domain_id = d.id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE ad.active AND a.active AND a.local_part <> '' AND {HOSTED}
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)""",
        ),
        (
            "mailadmin_postfix_recipient_access",
            f"""
SELECT m.local_part AS local_part, d.name AS domain, '{DISABLED_ACTION}' AS action
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE NOT m.active AND {HOSTED}
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT m.local_part, ad.name, '{DISABLED_ACTION}'
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND NOT m.active AND {HOSTED}
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a WHERE a.domain_id = m.domain_id
                      AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT {no_local_part}, d.name, '{DOMAIN_DISABLED_ACTION}'
  FROM domains_domain d
 WHERE NOT d.active
UNION ALL
SELECT {no_local_part}, ad.name, '{DOMAIN_DISABLED_ACTION}'
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE NOT (ad.active AND d.active)""",
        ),
        (
            "mailadmin_postfix_relay_recipient",
            f"""
SELECT r.local_part AS local_part, d.name AS domain
  FROM domains_relayrecipient r
  JOIN domains_domain d ON d.id = r.domain_id
 WHERE {RELAYED}
UNION ALL
SELECT '', d.name
  FROM domains_domain d
 WHERE {RELAYED} AND d.relay_accept_any""",
        ),
        (
            "mailadmin_dovecot_userdb",
            f"""
SELECT {address} AS username, m.local_part AS local_part, d.name AS domain,
       {_home(dialect)} AS home, m.path AS maildir, m.format AS format,
       COALESCE(m.uid, d.uid, s.default_uid) AS uid,
       COALESCE(m.gid, d.gid, s.default_gid) AS gid,
       m.quota AS quota_bytes
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
  {settings_join}
 WHERE m.active AND {HOSTED}""",
        ),
        (
            "mailadmin_dovecot_passdb",
            f"""
SELECT {address} AS username, m.local_part AS local_part, d.name AS domain,
       m.password AS password
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE m.active AND {HOSTED}""",
        ),
        (
            "mailadmin_dovecot_sieve",
            f"""
SELECT l.username AS username, 'panel' AS name,
       COALESCE(s.data_id, '{DEFAULT_SIEVE_ID}') AS data_id,
       COALESCE(s.script, '{DEFAULT_SIEVE_SCRIPT}') AS script
  FROM mailboxes_mailboxlogin l
  LEFT JOIN sieve_sievescript s ON s.mailbox_id = l.mailbox_id""",
        ),
        (
            "mailadmin_dovecot_owner",
            """
SELECT l.username AS username, l.language AS language
  FROM mailboxes_mailboxlogin l""",
        ),
    ]


def create_sql(dialect: str) -> list[str]:
    statements = []
    for name, body in view_statements(dialect):
        if dialect == "pgsql":
            statements.append(f"CREATE OR REPLACE VIEW {name} AS{body}")
        elif dialect == "mysql":
            # SQL SECURITY DEFINER: the read-only roles need SELECT on the view, not the tables.
            statements.append(f"CREATE OR REPLACE SQL SECURITY DEFINER VIEW {name} AS{body}")
        else:
            statements.append(f"DROP VIEW IF EXISTS {name}")
            statements.append(f"CREATE VIEW {name} AS{body}")
    return statements


def drop_sql(dialect: str) -> list[str]:
    return [f"DROP VIEW IF EXISTS {name}" for name in reversed(ALL_VIEWS)]
