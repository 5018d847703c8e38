"""Postfix lookups per second through the real ``postmap -q -``, against three layouts of the
same data, in one run:

- ``mailadmin``: the ``pgsql:`` tables ``manage.py export_maps`` writes, queried as the
  exported read-only Postfix role (``sql/roles.sql`` applied as the database superuser);
- ``postfixadmin``: the same rows in PostfixAdmin's schema, queried with its documented
  queries as a read-only role of its own (bench/postfixadmin.py);
- ``hash``: a local ``hash:`` file of the same map built with ``postmap`` (the reference a
  database can only approach).

    .venv/bin/python -m bench.lookups --db mailadmin_bench_100k [--keys 4000] [--repeat 3]

Each main.cf parameter is queried as its whole chain of tables (``postmap -q - A B C`` answers
from the first table that has the key, as Postfix does). The key set of each parameter is fixed
by a seeded random choice from the database: 90% hits, 10% misses, with alias-domain addresses
and ``@domain`` catch-all probes among the virtual_alias_maps keys. One postmap process per
(layout, parameter, repetition) reads all the keys over one connection; the time of a run with
no keys (process start) is subtracted, and the best of the repetitions is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import postfixadmin
from bench.common import BenchDB, machine, write_result
from mailadmin.contract.export import atomic_write, make_private_dir
from mailadmin.contract.queries import MAIN_CF_MAPS

POSTMAP = "/usr/sbin/postmap"

# main.cf parameter -> mailadmin's exported tables: the chains the exported main.cf names,
# for the maps PostfixAdmin has too (the benchmark compares each with its PostfixAdmin twin).
_MEASURED = (
    "virtual_mailbox_domains",
    "virtual_alias_domains",
    "virtual_alias_maps",
    "virtual_mailbox_maps",
    "virtual_uid_maps",
    "virtual_gid_maps",
    "smtpd_sender_login_maps",
)
MAILADMIN_CHAINS: dict[str, tuple[str, ...]] = {name: MAIN_CF_MAPS[name] for name in _MEASURED}
# smtpd_recipient_restrictions = check_recipient_access: asked for every RCPT TO, and for
# nearly every key it finds nothing (it answers only for disabled mailboxes).
MAILADMIN_CHAINS["check_recipient_access"] = ("recipient_access",)

# The whole content of each map, for the hash: reference (key, value), read as superuser.
HASH_CONTENT: dict[str, str] = {
    "virtual_mailbox_domains": (
        "SELECT domain, domain FROM mailadmin_postfix_domain WHERE kind = 'hosted'"
    ),
    "virtual_alias_domains": (
        "SELECT domain, domain FROM mailadmin_postfix_domain WHERE kind = 'alias'"
    ),
    "virtual_alias_maps": (
        "SELECT local_part || '@' || domain, string_agg(destination, ',')"
        " FROM mailadmin_postfix_alias GROUP BY local_part, domain"
    ),
    "virtual_mailbox_maps": (
        "SELECT local_part || '@' || domain, maildir FROM mailadmin_postfix_mailbox"
    ),
    "virtual_uid_maps": "SELECT local_part || '@' || domain, uid FROM mailadmin_postfix_mailbox",
    "virtual_gid_maps": "SELECT local_part || '@' || domain, gid FROM mailadmin_postfix_mailbox",
    "smtpd_sender_login_maps": (
        "SELECT local_part || '@' || domain, string_agg(login, ',')"
        " FROM mailadmin_postfix_sender_login GROUP BY local_part, domain"
    ),
    "check_recipient_access": (
        "SELECT local_part || '@' || domain, action FROM mailadmin_postfix_recipient_access"
    ),
}


# --- key sets ------------------------------------------------------------------------------


def _sample(conn: Any, sql: str, n: int, rng: random.Random) -> list[str]:
    """n values of a one-column query, chosen by the session's seeded random(); drawn again
    (with repeats) when the query has fewer than n rows, as small installations do."""
    if n <= 0:
        return []
    rows = conn.execute(f"SELECT v FROM ({sql}) AS s(v) ORDER BY random() LIMIT %s", (n,))
    values = [row[0] for row in rows]
    if values and len(values) < n:
        values += rng.choices(values, k=n - len(values))
    return values


_HOSTED = "d.active AND d.delivery = 'hosted'"
MAILBOXES = (
    "SELECT m.local_part || '@' || d.name FROM mailboxes_mailbox m"
    f" JOIN domains_domain d ON d.id = m.domain_id WHERE m.active AND {_HOSTED}"
)
ALIASES = (
    "SELECT a.local_part || '@' || d.name FROM mailboxes_alias a"
    f" JOIN domains_domain d ON d.id = a.domain_id"
    f" WHERE a.active AND a.local_part <> '' AND {_HOSTED}"
)
ALIAS_DOMAIN_ADDRESSES = (
    "SELECT m.local_part || '@' || ad.name FROM domains_aliasdomain ad"
    " JOIN domains_domain d ON d.id = ad.target_id"
    f" JOIN mailboxes_mailbox m ON m.domain_id = d.id WHERE ad.active AND {_HOSTED}"
)
CATCHALL_PROBES = (
    "SELECT '@' || d.name FROM mailboxes_alias a JOIN domains_domain d ON d.id = a.domain_id"
    f" WHERE a.local_part = '' AND a.active AND {_HOSTED}"
    " UNION ALL SELECT '@' || ad.name FROM domains_aliasdomain ad"
    " JOIN mailboxes_alias a ON a.domain_id = ad.target_id AND a.local_part = ''"
    f" JOIN domains_domain d ON d.id = ad.target_id WHERE ad.active AND a.active AND {_HOSTED}"
)
HOSTED_DOMAINS = f"SELECT d.name FROM domains_domain d WHERE {_HOSTED}"
ACTIVE_ALIAS_DOMAINS = (
    "SELECT ad.name FROM domains_aliasdomain ad JOIN domains_domain d ON d.id = ad.target_id"
    f" WHERE ad.active AND {_HOSTED}"
)
NO_CATCHALL_DOMAINS = (
    f"SELECT d.name FROM domains_domain d WHERE {_HOSTED} AND NOT EXISTS"
    " (SELECT 1 FROM mailboxes_alias a WHERE a.domain_id = d.id AND a.local_part = '')"
)


def key_sets(db: BenchDB, n: int, seed: float = 0.42) -> dict[str, list[str]]:
    """The fixed keys of each main.cf parameter: 90% hits, 10% misses, shuffled."""
    rng = random.Random(int(seed * 1000))
    with db.connect() as conn:
        # One plan and one row order for the seeded random(): no parallel scans.
        conn.execute("SET max_parallel_workers_per_gather = 0")
        conn.execute("SELECT setseed(%s)", (seed,))

        def part(sql: str, share: float) -> list[str]:
            return _sample(conn, sql, round(n * share), rng)

        def misses_user(share: float) -> list[str]:
            return [
                f"nobody{rng.randrange(10**6)}@{domain}" for domain in part(HOSTED_DOMAINS, share)
            ]

        def misses_domain(share: float) -> list[str]:
            return [f"unknown{i}-{rng.randrange(10**6)}.example" for i in range(round(n * share))]

        mailboxes = part(MAILBOXES, 0.9)
        sets = {
            "virtual_mailbox_domains": part(HOSTED_DOMAINS, 0.9) + misses_domain(0.1),
            "virtual_alias_domains": part(ACTIVE_ALIAS_DOMAINS, 0.9) + misses_domain(0.1),
            "virtual_alias_maps": (
                mailboxes[: round(n * 0.45)]
                + part(ALIASES, 0.20)
                + part(ALIAS_DOMAIN_ADDRESSES, 0.15)
                + part(CATCHALL_PROBES, 0.10)
                + misses_user(0.05)
                + ["@" + d for d in part(NO_CATCHALL_DOMAINS, 0.03)]
                + [f"user@{d}" for d in misses_domain(0.02)]
            ),
            "virtual_mailbox_maps": mailboxes + misses_user(0.1),
            "smtpd_sender_login_maps": (
                mailboxes[: round(n * 0.7)] + part(ALIASES, 0.2) + misses_user(0.1)
            ),
        }
    sets["virtual_uid_maps"] = sets["virtual_mailbox_maps"]
    sets["virtual_gid_maps"] = sets["virtual_mailbox_maps"]
    sets["check_recipient_access"] = sets["virtual_mailbox_maps"]
    for keys in sets.values():
        rng.shuffle(keys)
    return sets


# --- the three layouts -----------------------------------------------------------------------


def export_mailadmin(db: BenchDB, out: Path) -> tuple[str, str]:
    """export_maps for the bench database and its roles.sql applied; the two role names."""
    postfix_role, dovecot_role = f"{db.name}_postfix", f"{db.name}_dovecot"
    contract = db.contract_db()
    # The contract of this checkout: a database seeded before a new view gets it now.
    contract.manage("migrate", "--no-input", "-v", "0")
    contract.manage(
        "export_maps",
        "--dialect",
        "pgsql",
        "--out",
        str(out),
        "--db-url",
        db.url,  # host and database only; the role and its password are the exporter's
        "--postfix-dir",
        str(out / "postfix"),
        "--no-proxy",
        "--postfix-role",
        postfix_role,
        "--dovecot-role",
        dovecot_role,
    )
    contract.execute_admin((out / "sql" / "roles.sql").read_text())
    return postfix_role, dovecot_role


def export_postfixadmin(db: BenchDB, out: Path) -> Path:
    """PostfixAdmin's lookup tables and their read-only role; the folder of the .cf files."""
    role = f"{db.name}_pfa"
    make_private_dir(out)
    secret_file = out / ".password"
    if secret_file.exists():
        password = secret_file.read_text().strip()
    else:
        password = secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")
        atomic_write(secret_file, password + "\n", 0o600)
    db.contract_db().execute_admin(postfixadmin.role_sql(role, password, db.name))
    for name, query in postfixadmin.QUERIES.items():
        text = postfixadmin.table_file(
            query, host=db.host, port=db.port, role=role, password=password, db=db.name
        )
        atomic_write(out / f"{name}.cf", text)
    return out


def build_hash_maps(db: BenchDB, out: Path) -> dict[str, dict[str, Any]]:
    """One hash: file per parameter with the whole map, built by postmap; build times."""
    make_private_dir(out)
    built = {}
    with db.connect() as conn:
        for name in MAILADMIN_CHAINS:
            sql = HASH_CONTENT[name]
            source = out / name
            started = time.perf_counter()
            lines = 0
            with source.open("w") as handle:
                for key, value in conn.execute(sql):
                    handle.write(f"{key} {value}\n")
                    lines += 1
            dumped = time.perf_counter() - started
            started = time.perf_counter()
            subprocess.run([POSTMAP, f"hash:{source}"], check=True, timeout=1800)
            built[name] = {
                "entries": lines,
                "dump_s": round(dumped, 2),
                "postmap_build_s": round(time.perf_counter() - started, 2),
            }
    return built


# --- measuring -----------------------------------------------------------------------------


def run_postmap(tables: list[str], keys: list[str]) -> tuple[float, list[str]]:
    """Seconds of one `postmap -q - TABLES...` run over `keys`, and its output lines."""
    stdin = "".join(f"{key}\n" for key in keys)
    started = time.perf_counter()
    result = subprocess.run(
        [POSTMAP, "-q", "-", *tables],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    # Exit 1 with no output is "nothing found"; anything on stderr is an error.
    if result.stderr.strip() or result.returncode not in (0, 1):
        raise RuntimeError(f"postmap -q - {' '.join(tables)}: {result.stderr.strip()}")
    return elapsed, result.stdout.splitlines()


def measure(tables: list[str], keys: list[str], repeat: int, rounds: int = 1) -> dict[str, Any]:
    """Best of `repeat` runs over the keys (fed `rounds` times in a row: a hash: lookup is so
    fast that one pass is lost in the process start's noise)."""
    startup = min(run_postmap(tables, [])[0] for _ in range(repeat))
    runs = []
    lines: list[str] = []
    for _ in range(repeat):
        elapsed, lines = run_postmap(tables, keys * rounds)
        runs.append(elapsed)
    best = min(runs)
    lookups = len(keys) * rounds
    net = max(best - startup, 1e-9)
    return {
        "keys": len(keys),
        "rounds": rounds,
        "hits": len(lines) // rounds,
        "runs_s": [round(r, 4) for r in runs],
        "startup_s": round(startup, 4),
        "lookups_per_s": round(lookups / net),
        "us_per_lookup": round(net / lookups * 1e6, 2),
        "answers": dict(line.split("\t", 1) for line in lines if "\t" in line),
    }


def compare(a: dict[str, str], b: dict[str, str]) -> dict[str, Any]:
    """Keys answered differently (answers compared as sets of comma-separated values)."""
    differ = [
        k
        for k in sorted(set(a) | set(b))
        if set(a.get(k, "").split(",")) != set(b.get(k, "").split(","))
    ]
    return {"count": len(differ), "examples": {k: [a.get(k), b.get(k)] for k in differ[:5]}}


def run(db: BenchDB, n_keys: int, repeat: int) -> dict[str, Any]:
    out = db.out
    sets = key_sets(db, n_keys)
    make_private_dir(out / "keys")
    for parameter, keys in sets.items():
        (out / "keys" / f"{parameter}.txt").write_text("".join(f"{k}\n" for k in keys))
    export_mailadmin(db, out / "export")
    pfa_dir = export_postfixadmin(db, out / "postfixadmin")
    print("building the hash: maps ...", flush=True)
    hashes = build_hash_maps(db, out / "hash")
    results: dict[str, Any] = {}
    for parameter, tables in MAILADMIN_CHAINS.items():
        keys = sets[parameter]
        layouts: dict[str, list[str]] = {
            "mailadmin": [f"pgsql:{out / 'export' / 'postfix' / t}.cf" for t in tables],
            "hash": [f"hash:{out / 'hash' / parameter}"],
        }
        if parameter in postfixadmin.CHAINS:
            layouts["postfixadmin"] = [
                f"pgsql:{pfa_dir / t}.cf" for t in postfixadmin.CHAINS[parameter]
            ]
        row: dict[str, Any] = {"tables": {k: len(v) for k, v in layouts.items()}}
        for layout, refs in layouts.items():
            row[layout] = measure(refs, keys, repeat, rounds=50 if layout == "hash" else 1)
        answers = {layout: row[layout].pop("answers") for layout in layouts}
        row["differ_hash_vs_mailadmin"] = compare(answers["hash"], answers["mailadmin"])
        if "postfixadmin" in answers:
            row["differ_postfixadmin_vs_mailadmin"] = compare(
                answers["postfixadmin"], answers["mailadmin"]
            )
        results[parameter] = row
        print(_line(parameter, row), flush=True)
    return {"key_kinds": _kinds(sets), "hash_build": hashes, "parameters": results}


def _kinds(sets: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    def kind(key: str) -> str:
        if key.startswith("@"):
            return "@domain"
        if "@" in key:
            return "address"
        return "domain"

    return {name: dict(Counter(kind(k) for k in keys)) for name, keys in sets.items()}


def _line(parameter: str, row: dict[str, Any]) -> str:
    parts = [f"{parameter:24}"]
    for layout in ("mailadmin", "postfixadmin", "hash"):
        if layout in row:
            r = row[layout]
            parts.append(
                f"{layout} {r['lookups_per_s']:>7}/s {r['us_per_lookup']:>7} us hits {r['hits']}"
            )
    return " | ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a database filled by bench.seed")
    parser.add_argument("--keys", type=int, default=4000, help="keys per parameter")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    db = BenchDB(args.db)
    if not db.exists():
        print(f"{db.name} does not exist: run python -m bench.seed first", file=sys.stderr)
        return 2
    seed_info = json.loads((db.out / "seed.json").read_text())
    before = machine()
    figures = run(db, args.keys, args.repeat)
    result = {
        "database": db.name,
        "mailboxes": seed_info["plan"]["mailboxes"],
        "plan": seed_info["plan"],
        "machine_before": before,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        **figures,
    }
    write_result(db.out / "lookups.json", result)
    print(f"results in {db.out / 'lookups.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
