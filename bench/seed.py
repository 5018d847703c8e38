"""Fill a benchmark database with M mailboxes in realistic proportions, by bulk SQL.

    .venv/bin/python -m bench.seed --mailboxes 100000 [--db mailadmin_bench_100k]

Drops and re-creates the database, applies the migrations with ``manage.py migrate``, then
fills every table with ``INSERT ... SELECT generate_series`` in one transaction (no ORM save
per row) and lays the same data out in PostfixAdmin's schema (schema ``postfixadmin``, see
bench/postfixadmin.py) for the lookup comparison. Everything is a function of M, so the same
M always gives the same rows.

Proportions (M mailboxes):
- D = max(5, M/50) hosted domains; one big domain (``bigcorp.example``) holds M/10 mailboxes,
  the others share the rest evenly; 1% of the domains inactive, 20% with their own uid/gid;
  max(2, D/100) relayed or backup-MX domains;
- mailboxes: first.last<k> local parts, 5% mbox, 1% inactive, 1% with their own uid/gid,
  password hashes in {ARGON2ID} and {SHA512-CRYPT} form (a few distinct hashes, reused);
- M/5 aliases (1 to 3 destinations, some outside), M/100 aliases on a mailbox's own address
  that forward and keep a copy, a catch-all in 5% of the domains;
- max(1, D/10) alias domains, a quarter of them pointing at a domain with a catch-all, one at
  the big domain;
- panel users: a superuser and a domain admin of up to 25 domains (the big one included); the
  login is written to <out>/panel-login.json (mode 0600).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from dataclasses import asdict, dataclass
from typing import Any

from bench import postfixadmin
from bench.common import BenchDB, default_db_name, machine, stopwatch, write_result

# Words for realistic names; split once below.
_NAMES = (
    "anna alex boris carla daniel elena felix galina hugo irina jan julia karl lena max "
    "maria nick olga oleh petro rita sam sofia taras uma victor wanda yana zoe ivan "
    "kateryna bohdan mykola nadia roman svitlana andriy oksana dmytro larysa"
)
_SURNAMES = (
    "smith kovalenko muller bondar novak shevchenko garcia melnyk rossi tkachenko dubois "
    "kravets jensen boyko silva lysenko nowak moroz weber savchenko brown rudenko fischer "
    "marchenko costa kozak martin pavlenko schmidt levchenko wilson hrytsenko bauer oliynyk "
    "taylor polishchuk meyer zinchenko clark ivanenko"
)
_ROLES = "info sales support office billing team hr admin press jobs contact noreply"
_WORDS = (
    "acme blue city delta eco fast green home info joy kiev lake mono nova open prime "
    "quick river star terra"
)
FIRST, LAST, ROLES, WORDS = (words.split() for words in (_NAMES, _SURNAMES, _ROLES, _WORDS))
BIG_DOMAIN = "bigcorp.example"
PANEL_SUPERUSER = "bench"
PANEL_DOMAIN_ADMIN = "benchadmin"


@dataclass(frozen=True)
class Plan:
    mailboxes: int
    domains: int
    relay_domains: int
    aliases: int
    alias_domains: int
    big_domain_mailboxes: int

    @classmethod
    def for_mailboxes(cls, mailboxes: int) -> Plan:
        if mailboxes < 20:
            raise ValueError("at least 20 mailboxes")
        domains = max(5, mailboxes // 50)
        return cls(
            mailboxes=mailboxes,
            domains=domains,
            relay_domains=max(2, domains // 100),
            aliases=mailboxes // 5,
            alias_domains=max(1, domains // 10),
            big_domain_mailboxes=mailboxes // 10,
        )


def password_hashes() -> list[str]:
    """A few real hashes of each written scheme; rows reuse them (hashing 1M is not the point)."""
    from mailadmin.passwords import hash_password

    return [
        hash_password(f"bench-password-{i}", scheme)
        for scheme in ("ARGON2ID", "SHA512-CRYPT")
        for i in range(2)
    ]


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


def setup_django(db: BenchDB) -> None:
    import django

    os.environ["DATABASE_URL"] = db.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
    django.setup()


def seed(db: BenchDB, plan: Plan, *, with_postfixadmin: bool = True) -> dict[str, Any]:
    """Fill the (migrated, empty) database; return the timings of each step."""
    params = {
        "m": plan.mailboxes,
        "d": plan.domains,
        "r": plan.relay_domains,
        "a": plan.aliases,
        "ad": plan.alias_domains,
        "big": plan.big_domain_mailboxes,
        "big_name": BIG_DOMAIN,
        "first": FIRST,
        "last": LAST,
        "roles": ROLES,
        "words": WORDS,
    }
    timings: dict[str, Any] = {}
    with stopwatch() as t:
        hashes = password_hashes()
    timings["hash_passwords_s"] = round(t[0], 2)
    params["hashes"] = hashes
    params["nhashes"] = len(hashes)
    steps = list(STEPS)
    if with_postfixadmin:
        steps += postfixadmin.fill_steps()
    set_defaults, drop_defaults = model_default_sql(db)
    with stopwatch() as total, db.connect(autocommit=False) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET work_mem = '64MB'")
        for statement in set_defaults:
            conn.execute(statement)
        if with_postfixadmin:
            conn.execute(postfixadmin.SCHEMA_SQL)
        for name, sql in steps:
            with stopwatch() as t:
                cursor = conn.execute(sql, params)
            timings[name] = {"rows": cursor.rowcount, "s": round(t[0], 2)}
            print(f"  {name:28} {cursor.rowcount:>9} rows {t[0]:7.2f} s", flush=True)
        # The deferred foreign-key checks run here (they would at commit), then the defaults go.
        with stopwatch() as t:
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        timings["foreign_key_checks_s"] = round(t[0], 2)
        for statement in drop_defaults:
            conn.execute(statement)
        with stopwatch() as t:
            conn.commit()
        timings["commit_s"] = round(t[0], 2)
    timings["insert_total_s"] = round(total[0], 2)
    with stopwatch() as t, db.connect() as conn:
        conn.execute("VACUUM (ANALYZE)")
    timings["vacuum_analyze_s"] = round(t[0], 2)
    timings["mailboxes_per_s"] = round(plan.mailboxes / timings["insert_total_s"])
    return timings


def create_panel_users(db: BenchDB, password: str) -> None:
    """A superuser and a domain admin for the load test, through Django (two rows)."""
    from django.contrib.auth import get_user_model

    from domains.models import Domain

    user_model = get_user_model()
    user_model.objects.create_superuser(PANEL_SUPERUSER, "", password)
    admin = user_model.objects.create_user(PANEL_DOMAIN_ADMIN, "", password)
    admin.administered_domains.set(Domain.objects.filter(id__lte=25))


def table_counts(db: BenchDB) -> dict[str, int]:
    tables = (
        "domains_domain",
        "domains_aliasdomain",
        "mailboxes_mailbox",
        "mailboxes_alias",
        "mailboxes_aliasdestination",
        "postfixadmin.domain",
        "postfixadmin.mailbox",
        "postfixadmin.alias",
        "postfixadmin.alias_domain",
    )
    counts = {}
    with db.connect() as conn:
        for table in tables:
            exists = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
            if exists and exists[0]:
                row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                counts[table] = int(row[0]) if row else 0
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mailboxes", "-m", type=int, required=True)
    parser.add_argument("--db", help="database name (default mailadmin_bench_<size>)")
    parser.add_argument("--no-postfixadmin", action="store_true")
    args = parser.parse_args(argv)
    plan = Plan.for_mailboxes(args.mailboxes)
    db = BenchDB(args.db or default_db_name(args.mailboxes))
    print(f"seeding {db.name}: {plan}", flush=True)
    setup_django(db)
    with stopwatch() as t:
        db.recreate()
        db.contract_db().manage("migrate", "--no-input", "-v", "0")
    migrate_s = round(t[0], 2)
    timings = seed(db, plan, with_postfixadmin=not args.no_postfixadmin)
    password = os.environ.get("MAILADMIN_BENCH_PASSWORD") or secrets.token_urlsafe(16)
    create_panel_users(db, password)
    login = {"superuser": PANEL_SUPERUSER, "domain_admin": PANEL_DOMAIN_ADMIN}
    login["password"] = password
    login_file = db.out / "panel-login.json"
    login_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(login_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(login, handle)
    result = {
        "database": db.name,
        "plan": asdict(plan),
        "migrate_s": migrate_s,
        "timings": timings,
        "counts": table_counts(db),
        "machine": machine(),
    }
    write_result(db.out / "seed.json", result)
    print(
        f"done: {plan.mailboxes} mailboxes in {timings['insert_total_s']} s "
        f"({timings['mailboxes_per_s']}/s), vacuum analyze {timings['vacuum_analyze_s']} s; "
        f"results in {db.out / 'seed.json'}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
