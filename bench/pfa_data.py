"""Postfix lookups after a PostfixAdmin migration: PostfixAdmin's own tables and the panel's,
holding the same data, through the real ``postmap -q -``.

    .venv/bin/python -m bench.pfa_data [--mailboxes 100000] [--domains 1000] [--keys 20000]
        [--rounds 5] [--dialects pgsql,mysql,sqlite]

1. A fresh PostgreSQL database is filled by bulk SQL in PostfixAdmin's schema
   (bench/postfixadmin.py, schema ``postfixadmin``) in its usual layout: M mailboxes spread
   over the domains, one alias row per mailbox with goto = itself, three real aliases per
   domain, an alias domain for every 20th domain and a catch-all for every 10th.
2. A second fresh database is migrated and gets it by ``manage.py import_postfixadmin``; then
   ``manage.py export_maps`` and its roles.sql as bench.lookups applies them.
3. The same keys (80% mailboxes, 10% aliases, 10% unknown addresses; the domain maps get the
   keys' domains) go through each main.cf parameter's chain of tables on both sides, as
   bench.lookups runs them, next to a round-trip floor (a ``pgsql:`` table whose query is
   ``SELECT '%s'``, through the same client) and a ``hash:`` file of the mailbox map. The runs
   are interleaved (mailadmin, PostfixAdmin, ..., floor, hash) ``--rounds`` times; each row
   reports the median and the spread (min-max) in µs per lookup, the process start (a run
   without keys) subtracted.
   With ``--dialects`` naming mysql or sqlite, the panel's MariaDB database and SQLite file get
   the same import and export (bench/other_dialects.py), and each of their chains and a floor
   of their own join the interleaved runs; their answers are compared with PostgreSQL's.
4. All of that right after the import (as the import left the statistics: it analyses the
   tables it wrote; the PostfixAdmin side has only what autovacuum did meanwhile), then again
   after ``VACUUM ANALYZE`` of both databases.

Results: <out>/mailadmin_pfadata_<size>/pfa-data.json, and a markdown table printed
(``--markdown`` writes it to a file too). The databases are kept for a look (``--drop``
removes them).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import other_dialects, postfixadmin
from bench.common import BenchDB, machine, size_label, stopwatch, write_result
from bench.lookups import (
    MAILADMIN_CHAINS,
    POSTMAP,
    compare,
    export_mailadmin,
    export_postfixadmin,
    run_postmap,
)
from mailadmin.contract.export import atomic_write, make_private_dir

# main.cf parameters whose keys are domains; every other one is asked for addresses.
DOMAIN_PARAMETERS = ("virtual_mailbox_domains", "virtual_alias_domains")
ALIASES_PER_DOMAIN = 3
ALIAS_DOMAIN_EVERY = 20
CATCHALL_EVERY = 10
# A SHA512-CRYPT hash as PostfixAdmin stores it (nobody logs in during the benchmark).
HASH = "{SHA512-CRYPT}$6$benchsalt$" + "x" * 86


def fill_sql(mailboxes: int, domains: int) -> list[tuple[str, str]]:
    """(name, SQL) filling PostfixAdmin's tables (search_path = its schema) in one pass each.

    Domain d (1..D) is dom<d>.example; mailbox j (1..M) is user<j>@dom<(j-1)%D+1>.example,
    so every domain holds about M/D mailboxes; alias k of domain d is info<k>@ that domain,
    to its first two mailboxes."""
    m, d, k = mailboxes, domains, ALIASES_PER_DOMAIN
    return [
        (
            "domain",
            f"""
INSERT INTO domain (domain, description, transport, backupmx, active)
SELECT 'dom' || i || '.example', 'domain ' || i, 'virtual', false, true
  FROM generate_series(1, {d}) i
UNION ALL
SELECT 'alias' || i || '.example', '', 'virtual', false, true
  FROM generate_series(1, {d}) i WHERE i % {ALIAS_DOMAIN_EVERY} = 0
""",
        ),
        (
            "mailbox",
            f"""
INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain, active)
SELECT 'user' || j || '@dom' || dn || '.example', '{HASH}', 'User ' || j,
       'dom' || dn || '.example/user' || j || '/', 0, 'user' || j, 'dom' || dn || '.example',
       true
  FROM (SELECT j, (j - 1) % {d} + 1 AS dn FROM generate_series(1, {m}) j) s
""",
        ),
        (
            "alias_mailboxes",
            # PostfixAdmin writes an alias row for each mailbox it creates: address -> itself.
            "INSERT INTO alias (address, goto, domain, active)"
            " SELECT username, username, domain, true FROM mailbox",
        ),
        (
            "alias",
            f"""
INSERT INTO alias (address, goto, domain, active)
SELECT 'info' || a || '@dom' || i || '.example',
       'user' || i || '@dom' || i || '.example,user' || ({d} + i) || '@dom' || i || '.example',
       'dom' || i || '.example', true
  FROM generate_series(1, {d}) i, generate_series(1, {k}) a
""",
        ),
        (
            "catchall",
            f"""
INSERT INTO alias (address, goto, domain, active)
SELECT '@dom' || i || '.example', 'user' || i || '@dom' || i || '.example',
       'dom' || i || '.example', true
  FROM generate_series(1, {d}) i WHERE i % {CATCHALL_EVERY} = 0
""",
        ),
        (
            "alias_domain",
            f"""
INSERT INTO alias_domain (alias_domain, target_domain, active)
SELECT 'alias' || i || '.example', 'dom' || i || '.example', true
  FROM generate_series(1, {d}) i WHERE i % {ALIAS_DOMAIN_EVERY} = 0
""",
        ),
    ]


def fill_source(db: BenchDB, mailboxes: int, domains: int) -> dict[str, float]:
    """A fresh database with PostfixAdmin's tables, filled; seconds per step."""
    if mailboxes < 2 * domains:
        raise ValueError("every domain needs two mailboxes (its aliases' destinations)")
    db.recreate()
    timings = {}
    with db.connect() as conn:
        conn.execute(f'ALTER DATABASE "{db.name}" SET search_path = {postfixadmin.SCHEMA}')
        conn.execute(postfixadmin.SCHEMA_SQL)
        conn.execute(f"SET search_path = {postfixadmin.SCHEMA}")
        for name, sql in fill_sql(mailboxes, domains):
            with stopwatch() as t:
                conn.execute(sql)
            timings[name] = round(t[0], 2)
    return timings


def keys(mailboxes: int, domains: int, n: int, seed: float = 0.42) -> list[str]:
    """n addresses in a fixed random order: 80% mailboxes, 10% real aliases, 10% unknown."""
    rng = random.Random(seed)
    chosen = []
    for i in range(n):
        if i % 10 < 8:
            j = rng.randint(1, mailboxes)
            chosen.append(f"user{j}@dom{(j - 1) % domains + 1}.example")
        elif i % 10 == 8:
            chosen.append(
                f"info{rng.randint(1, ALIASES_PER_DOMAIN)}@dom{rng.randint(1, domains)}.example"
            )
        else:
            chosen.append(f"nobody{i}@dom{rng.randint(1, domains)}.example")
    rng.shuffle(chosen)
    return chosen


def source_url(source: BenchDB) -> str:
    return f"postgresql://{source.admin.user}@{source.host}:{source.port}/{source.name}"


def import_into(source: BenchDB, target: BenchDB) -> float:
    """A migrated, empty target filled by `manage.py import_postfixadmin`; its seconds."""
    target.recreate()
    return other_dialects.import_into(target.contract_db(), source_url(source))


def floor_and_hash(source: BenchDB, pfa_dir: Path, out: Path) -> tuple[str, str]:
    """The floor table (`SELECT '%s'` as PostfixAdmin's role) and a hash: file of the mailbox
    map (username -> maildir); their table references."""
    make_private_dir(out)
    password = (pfa_dir / ".password").read_text().strip()
    floor = out / "floor.cf"
    text = postfixadmin.table_file(
        "SELECT '%s'",
        host=source.host,
        port=source.port,
        role=f"{source.name}_pfa",
        password=password,
        db=source.name,
    )
    atomic_write(floor, text)
    mailbox = out / "mailbox"
    with source.connect() as conn, mailbox.open("w") as handle:
        for username, maildir in conn.execute("SELECT username, maildir FROM mailbox"):
            handle.write(f"{username} {maildir}\n")
    subprocess.run([POSTMAP, f"hash:{mailbox}"], check=True, timeout=1800)
    return f"pgsql:{floor}", f"hash:{mailbox}"


def candidates(
    target: BenchDB, pfa_dir: Path, floor: str, hashed: str
) -> dict[str, tuple[list[str], bool]]:
    """Row name -> (tables, asked for domains): each parameter on both sides, floor, hash."""
    postfix = target.out / "export" / "postfix"
    rows: dict[str, tuple[list[str], bool]] = {}
    for parameter, tables in MAILADMIN_CHAINS.items():
        domain_keys = parameter in DOMAIN_PARAMETERS
        rows[f"{parameter} mailadmin"] = ([f"pgsql:{postfix / t}.cf" for t in tables], domain_keys)
        if parameter in postfixadmin.CHAINS:
            pfa = [f"pgsql:{pfa_dir / t}.cf" for t in postfixadmin.CHAINS[parameter]]
            rows[f"{parameter} postfixadmin"] = (pfa, domain_keys)
    rows["floor SELECT '%s'"] = ([floor], False)
    rows["hash: mailbox map"] = ([hashed], False)
    return rows


def dialect_rows(dialect: str, postfix: Path, floor: Path) -> dict[str, tuple[list[str], bool]]:
    """The rows of one more dialect's export: each parameter's chain, and its floor."""
    client = other_dialects.CLIENT[dialect]
    rows = {
        f"{parameter} mailadmin {dialect}": (
            [f"{client}:{postfix / t}.cf" for t in tables],
            parameter in DOMAIN_PARAMETERS,
        )
        for parameter, tables in MAILADMIN_CHAINS.items()
    }
    rows[f"floor SELECT '%s' {dialect}"] = ([f"{client}:{floor}"], False)
    return rows


def measure_phase(
    rows: dict[str, tuple[list[str], bool]], addresses: list[str], rounds: int
) -> dict[str, Any]:
    """Every row's chain over the keys, interleaved `rounds` times; µs per lookup."""
    domains = [key.split("@", 1)[1] for key in addresses]
    startup = {name: min(run_postmap(t, [])[0] for _ in range(3)) for name, (t, _d) in rows.items()}
    runs: dict[str, list[float]] = {name: [] for name in rows}
    answers: dict[str, dict[str, str]] = {}
    hits: dict[str, int] = {}
    for _ in range(rounds):
        for name, (tables, domain_keys) in rows.items():
            elapsed, lines = run_postmap(tables, domains if domain_keys else addresses)
            runs[name].append(max(elapsed - startup[name], 0.0) / len(addresses) * 1e6)
            answered = [line.split("\t", 1) for line in lines if "\t" in line]
            hits[name] = len(answered)
            answers[name] = dict(answered)
    figures: dict[str, Any] = {}
    for name, values in runs.items():
        figures[name] = {
            "median_us": round(statistics.median(values), 1),
            "min_us": round(min(values), 1),
            "max_us": round(max(values), 1),
            "runs_us": [round(v, 1) for v in values],
            "startup_s": round(startup[name], 4),
            "hits": hits[name],
        }
    for name in rows:
        # PostfixAdmin's chains and the other dialects' against mailadmin's on PostgreSQL.
        for suffix in (" postfixadmin", *(f" mailadmin {d}" for d in other_dialects.DIALECTS)):
            if name.endswith(suffix) and not name.startswith("floor"):
                twin = name.replace(suffix, " mailadmin")
                figures[name]["differ_from_mailadmin"] = compare(answers[name], answers[twin])
    return figures


def statistics_of(db: BenchDB) -> dict[str, Any]:
    """reltuples and whether ANALYZE (or autovacuum's) ran, for every table holding rows."""
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT s.relname, c.reltuples, s.last_analyze IS NOT NULL,"
            "       s.last_autoanalyze IS NOT NULL"
            "  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE s.n_live_tup > 0 ORDER BY s.relname"
        )
        return {
            name: {"reltuples": tuples, "analyzed": manual, "autoanalyzed": auto}
            for name, tuples, manual, auto in rows
        }


def vacuum_analyze(db: BenchDB) -> float:
    with db.connect() as conn, stopwatch() as t:
        conn.execute("VACUUM ANALYZE")
    return round(t[0], 2)


def markdown(result: dict[str, Any]) -> str:
    size = f"{result['mailboxes']:,} mailboxes in {result['domains']:,} domains"
    lines = [
        f"PostfixAdmin data ({size}), {result['keys']:,} keys, {result['rounds']} interleaved"
        " rounds; µs per lookup, median (min-max):",
        "",
        "| map | right after the import | after VACUUM ANALYZE |",
        "|---|---:|---:|",
    ]
    before, after = result["phases"]["after_import"], result["phases"]["after_analyze"]
    for name in before:
        cells = [
            f"{p[name]['median_us']} ({p[name]['min_us']}-{p[name]['max_us']})"
            for p in (before, after)
        ]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mailboxes", type=int, default=100_000)
    parser.add_argument("--domains", type=int, help="default: one per 100 mailboxes")
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", help="the panel's database (default mailadmin_pfadata_<size>)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--drop", action="store_true", help="drop the databases at the end")
    parser.add_argument(
        "--dialects",
        default="pgsql",
        help="the panel's databases to measure, comma-separated: pgsql (always), mysql, sqlite",
    )
    args = parser.parse_args(argv)
    extra = [d for d in args.dialects.split(",") if d and d != "pgsql"]
    if unknown := set(extra) - set(other_dialects.DIALECTS):
        parser.error(f"unknown dialects: {', '.join(sorted(unknown))}")
    domains = args.domains or max(1, args.mailboxes // 100)
    target = BenchDB(args.db or f"mailadmin_pfadata_{size_label(args.mailboxes)}")
    source = BenchDB(f"{target.name}_pfa")
    before = machine()
    print(f"filling {source.name} ...", flush=True)
    fill = fill_source(source, args.mailboxes, domains)
    print(f"importing into {target.name} ...", flush=True)
    import_s: dict[str, float] = {"pgsql": import_into(source, target)}
    export_mailadmin(target, target.out / "export")
    pfa_dir = export_postfixadmin(source, target.out / "postfixadmin")
    floor, hashed = floor_and_hash(source, pfa_dir, target.out / "reference")
    rows = candidates(target, pfa_dir, floor, hashed)
    others = {}
    for dialect in extra:
        print(f"importing into {dialect} ...", flush=True)
        db = other_dialects.contract_db(dialect, target)
        import_s[dialect] = other_dialects.import_into(db, source_url(source))
        postfix = other_dialects.export(db, target.out / dialect / "export", target)
        floor_cf = other_dialects.floor_table(postfix, target.out / dialect)
        rows.update(dialect_rows(dialect, postfix, floor_cf))
        others[dialect] = db
    addresses = keys(args.mailboxes, domains, args.keys)
    phases: dict[str, Any] = {}
    planner: dict[str, Any] = {}
    for phase in ("after_import", "after_analyze"):
        if phase == "after_analyze":
            planner["vacuum_analyze_s"] = {
                "mailadmin": vacuum_analyze(target),
                "postfixadmin": vacuum_analyze(source),
                **{dialect: other_dialects.analyze(db) for dialect, db in others.items()},
            }
        planner[phase] = {
            "mailadmin": statistics_of(target),
            "postfixadmin": statistics_of(source),
        }
        print(f"measuring {phase} ...", flush=True)
        phases[phase] = measure_phase(rows, addresses, args.rounds)
    result = {
        "database": target.name,
        "source_database": source.name,
        "mailboxes": args.mailboxes,
        "domains": domains,
        "keys": args.keys,
        "rounds": args.rounds,
        "fill_s": fill,
        "import_s": import_s,
        "tables": {name: tables for name, (tables, _d) in rows.items()},
        "planner": planner,
        "machine_before": before,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "phases": phases,
    }
    write_result(target.out / "pfa-data.json", result)
    table = markdown(result)
    print(table)
    if args.markdown:
        args.markdown.write_text(table)
    print(f"results in {target.out / 'pfa-data.json'}")
    if args.drop:
        target.drop()
        source.drop()
        for db in others.values():
            other_dialects.drop(db, target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
