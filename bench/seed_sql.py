"""The rows of the benchmark database as SQL: one ``INSERT ... SELECT generate_series`` per
step, each a function of the parameters seed() passes (the Plan's counts, the words, the
hashes), so the same M always gives the same rows. The proportions are listed in bench/seed.py.
"""

from __future__ import annotations

from bench.common import BenchDB
from mailadmin.contract import usage_table

# Domain of mailbox k: the first M/10 in the big domain (id 1), the rest spread over 2..D.
_MAILBOX_DOMAIN = "CASE WHEN k <= %(big)s THEN 1 ELSE 2 + k %% (%(d)s - 1) END"

STEPS: list[tuple[str, str]] = [
    (
        "domains",
        """
INSERT INTO domains_domain (id, name, description, active, delivery, transport, max_mailboxes,
                            max_aliases, max_mailbox_quota, total_quota, uid, gid,
                            created_at, updated_at)
SELECT i,
       CASE WHEN i = 1 THEN %(big_name)s
            ELSE (%(words)s::text[])[1 + i %% 20] || '-' || i || '.example' END,
       'Customer ' || i, i %% 100 <> 99, 'hosted', '', 0, 0, 0, 0,
       CASE WHEN i %% 5 = 0 THEN 5000 + i %% 50 END,
       CASE WHEN i %% 5 = 0 THEN 5000 + i %% 50 END,
       now(), now()
  FROM generate_series(1, %(d)s) AS i
""",
    ),
    (
        "relay_domains",
        """
INSERT INTO domains_domain (id, name, description, active, delivery, transport, max_mailboxes,
                            max_aliases, max_mailbox_quota, total_quota, created_at, updated_at)
SELECT i, 'relay-' || i || '.example', 'Relayed ' || i, true,
       CASE WHEN i %% 2 = 0 THEN 'relay' ELSE 'backup' END,
       CASE WHEN i %% 2 = 0 THEN 'smtp:[mx' || i || '.internal.example]:25' ELSE '' END,
       0, 0, 0, 0, now(), now()
  FROM generate_series(%(d)s + 1, %(d)s + %(r)s) AS i
""",
    ),
    (
        "mailboxes",
        f"""
INSERT INTO mailboxes_mailbox (id, domain_id, local_part, name, password, quota, format, path,
                               uid, gid, active, created_at, updated_at)
SELECT g.k, d.id, g.lp, g.display, (%(hashes)s::text[])[1 + g.k %% %(nhashes)s],
       (g.k %% 5) * 1073741824::bigint,
       CASE WHEN g.k %% 20 = 7 THEN 'mbox' ELSE 'maildir' END,
       d.name || '/' || g.lp || CASE WHEN g.k %% 20 = 7 THEN '/mbox' ELSE '/' END,
       CASE WHEN g.k %% 100 = 13 THEN 6000 + g.k %% 7 END,
       CASE WHEN g.k %% 100 = 13 THEN 6000 + g.k %% 7 END,
       g.k %% 100 <> 42, now(), now()
  FROM (SELECT k, {_MAILBOX_DOMAIN} AS domain_id,
               (%(first)s::text[])[1 + k %% 40] || '.' || (%(last)s::text[])[1 + (k / 40) %% 40]
                 || k AS lp,
               initcap((%(first)s::text[])[1 + k %% 40]) || ' '
                 || initcap((%(last)s::text[])[1 + (k / 40) %% 40]) AS display
          FROM generate_series(1, %(m)s) AS k) AS g
  JOIN domains_domain d ON d.id = g.domain_id
""",
    ),
    (
        "aliases",
        """
INSERT INTO mailboxes_alias (id, domain_id, local_part, description, active,
                             created_at, updated_at)
SELECT j, m.domain_id, (%(roles)s::text[])[1 + j %% 12] || '-' || j, '', j %% 200 <> 17,
       now(), now()
  FROM generate_series(1, %(a)s) AS j
  JOIN mailboxes_mailbox m ON m.id = 5 * j
""",
    ),
    (
        "alias_destinations",
        """
INSERT INTO mailboxes_aliasdestination (alias_id, address)
SELECT j, m.local_part || '@' || d.name
  FROM generate_series(1, %(a)s) AS j
  JOIN mailboxes_mailbox m ON m.id = 5 * j
  JOIN domains_domain d ON d.id = m.domain_id
UNION ALL
SELECT j, m.local_part || '@' || d.name
  FROM generate_series(3, %(a)s, 3) AS j
  JOIN mailboxes_mailbox m ON m.id = 5 * j - 1
  JOIN domains_domain d ON d.id = m.domain_id
UNION ALL
SELECT j, 'friend' || j || '@partner.example'
  FROM generate_series(7, %(a)s, 7) AS j
""",
    ),
    (
        "sequences",
        """
SELECT setval(pg_get_serial_sequence('domains_domain', 'id'), %(d)s + %(r)s),
       setval(pg_get_serial_sequence('mailboxes_mailbox', 'id'), %(m)s),
       setval(pg_get_serial_sequence('mailboxes_alias', 'id'), GREATEST(%(a)s, 1))
""",
    ),
    (
        "forwarding_aliases",
        # An alias on a mailbox's own address that keeps a copy and forwards one.
        """
INSERT INTO mailboxes_alias (domain_id, local_part, description, active, created_at, updated_at)
SELECT m.domain_id, m.local_part, 'forward and keep', true, now(), now()
  FROM mailboxes_mailbox m
 WHERE m.id %% 100 = 77
""",
    ),
    (
        "forwarding_destinations",
        """
INSERT INTO mailboxes_aliasdestination (alias_id, address)
SELECT a.id, x.address
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
  JOIN mailboxes_alias a ON a.domain_id = m.domain_id AND a.local_part = m.local_part
 CROSS JOIN LATERAL (VALUES (m.local_part || '@' || d.name),
                            ('archive' || m.id || '@archive.example')) AS x(address)
 WHERE m.id %% 100 = 77
""",
    ),
    (
        "catchalls",
        """
INSERT INTO mailboxes_alias (domain_id, local_part, description, active, created_at, updated_at)
SELECT d.id, '', 'catch-all', true, now(), now()
  FROM domains_domain d
 WHERE d.delivery = 'hosted' AND d.id %% 20 = 3
""",
    ),
    (
        "catchall_destinations",
        # The first address of the domain in (domain_id, local_part) index order: one index
        # probe per domain even before the new rows have statistics.
        """
INSERT INTO mailboxes_aliasdestination (alias_id, address)
SELECT a.id, first.local_part || '@' || d.name
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
 CROSS JOIN LATERAL (SELECT m.local_part FROM mailboxes_mailbox m
                      WHERE m.domain_id = d.id ORDER BY m.local_part LIMIT 1) AS first
 WHERE a.local_part = ''
""",
    ),
    (
        "alias_domains",
        """
INSERT INTO domains_aliasdomain (id, name, target_id, active, created_at, updated_at)
SELECT i, 'mirror' || i || '.example',
       CASE WHEN i = 1 THEN 1
            WHEN i %% 4 = 2 THEN 3 + 20 * ((i / 4) %% ((%(d)s - 3) / 20 + 1))
            ELSE 2 + (i * 7) %% (%(d)s - 1) END,
       i %% 100 <> 50, now(), now()
  FROM generate_series(1, %(ad)s) AS i
""",
    ),
    (
        "alias_domain_sequence",
        "SELECT setval(pg_get_serial_sequence('domains_aliasdomain', 'id'), %(ad)s)",
    ),
    (
        "quota_usage",
        # What Dovecot's quota_clone would have written: username, bytes and messages only,
        # so that the table's triggers fill mailbox, domain and permille as they do for
        # Dovecot. 90% of the mailboxes have reported; u runs through 0..999 in a scrambled
        # order in every thousand ids, and a quota's share is u^2/1000 permille (5% at 900 or
        # more), 0.1% of the mailboxes 5% over their quota, the unlimited ones up to 4 GB.
        f"""
INSERT INTO {usage_table.TABLE} (username, bytes, messages)
SELECT g.username, g.bytes, g.bytes / 50000
  FROM (SELECT l.username,
               CASE WHEN m.quota = 0 THEN u * u * 4096
                    WHEN m.id %% 1000 = 999 THEN m.quota * 21 / 20
                    ELSE m.quota * u * u / 1000000 END AS bytes
          FROM mailboxes_mailbox m
          JOIN mailboxes_mailboxlogin l ON l.mailbox_id = m.id
         CROSS JOIN LATERAL (SELECT (m.id * 7919) %% 1000 AS u) AS scrambled
         WHERE (m.id / 7) %% 10 <> 3) AS g
""",
    ),
]


def model_default_sql(db: BenchDB) -> tuple[list[str], list[str]]:
    """SET DEFAULT / DROP DEFAULT statements for the model fields the INSERTs do not name.

    The INSERTs list the columns the contract reads; a field added later with a plain default
    (a flag, a limit) gets that default as a column default for the seeding transaction only,
    so the seeder keeps working as the models grow.
    """
    from django.apps import apps

    set_sql, drop_sql = [], []
    with db.connect() as conn:
        for label in SEEDED_MODELS:
            model = apps.get_model(label)
            table = model._meta.db_table
            has_default = {
                row[0]
                for row in conn.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = %s AND column_default IS NOT NULL",
                    (table,),
                )
            }
            for field in model._meta.concrete_fields:
                default = field.get_default() if field.has_default() else None
                if (
                    field.null
                    or field.column in has_default
                    or not isinstance(default, (bool, int, str))
                ):
                    continue
                literal = conn.execute("SELECT quote_literal(%s::text)", (str(default),))
                quoted = literal.fetchone()[0]  # type: ignore[index]
                set_sql.append(
                    f'ALTER TABLE "{table}" ALTER COLUMN "{field.column}" SET DEFAULT {quoted}'
                )
                drop_sql.append(f'ALTER TABLE "{table}" ALTER COLUMN "{field.column}" DROP DEFAULT')
    return set_sql, drop_sql


SEEDED_MODELS = (
    "domains.Domain",
    "domains.AliasDomain",
    "mailboxes.Mailbox",
    "mailboxes.Alias",
    "mailboxes.AliasDestination",
)
