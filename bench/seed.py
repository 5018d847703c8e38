"""Fill a benchmark database with M mailboxes in realistic proportions, by bulk SQL.

    .venv/bin/python -m bench.seed --mailboxes 100000 [--db mailadmin_bench_100k]

Drops and re-creates the database, applies the migrations with ``manage.py migrate``, then
fills every table with ``INSERT ... SELECT generate_series`` in one transaction (no ORM save
per row) and lays the same data out in PostfixAdmin's schema (schema ``postfixadmin``, see
bench/postfixadmin.py) for the lookup comparison. Everything is a function of M, so the same
M always gives the same rows.
The counts and names are bench/seed_plan.py's, the SQL bench/seed_sql.py's.

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
- quota usage as Dovecot's quota_clone writes it, for 90% of the mailboxes (the rest have not
  reported yet): 5% of the limited ones at 90% of their quota or more, 0.1% of all over it;
- panel users: a superuser and a domain admin of up to 25 domains (the big one included); the
  login is written to <out>/panel-login.json (mode 0600).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from dataclasses import asdict
from typing import Any

from bench import postfixadmin
from bench.common import BenchDB, default_db_name, machine, stopwatch, write_result
from bench.seed_plan import (
    BIG_DOMAIN,
    FIRST,
    LAST,
    PANEL_DOMAIN_ADMIN,
    PANEL_SUPERUSER,
    ROLES,
    WORDS,
    Plan,
    password_hashes,
)
from bench.seed_sql import STEPS, model_default_sql


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
        "mailadmin_quota_usage",
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
