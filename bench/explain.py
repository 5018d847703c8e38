"""Where a lookup's time goes: planning against execution, per exported query.

    .venv/bin/python -m bench.explain --db mailadmin_bench_1m [--keys 200]

For each main.cf parameter, takes the first keys of the set bench.lookups used
(<out>/keys/<parameter>.txt), expands the first table's query as Postfix does (%s, %u, %d,
quoted) and runs ``EXPLAIN (ANALYZE, SUMMARY)`` on one warm connection, for mailadmin's query
and PostfixAdmin's. Prints the median planning and execution time in µs. Postfix's pgsql
client sends every lookup as a new literal query, so PostgreSQL plans each one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

from bench import postfixadmin
from bench.common import BenchDB, write_result
from bench.lookups import MAILADMIN_CHAINS
from mailadmin.contract.queries import POSTFIX_QUERIES


def expand(query: str, key: str) -> str:
    """Postfix's %s/%u/%d expansion, with the quoting its pgsql client applies."""
    local, _, domain = key.rpartition("@") if "@" in key else (key, "", "")

    def quote(value: str) -> str:
        return value.replace("'", "''")

    return (
        query.replace("%s", quote(key))
        .replace("%u", quote(local))
        .replace("%d", quote(domain))
        .replace("%%", "%")
    )


def timings(conn: Any, query: str, keys: list[str], search_path: str) -> dict[str, float]:
    conn.execute(f"SET search_path = {search_path}")
    planning, execution = [], []
    for key in keys:
        if ("%u" in query or "%d" in query) and "@" not in key:
            continue  # Postfix does not send a query with %d for a key without a domain
        plan = conn.execute("EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) " + expand(query, key))
        row = plan.fetchone()[0][0]
        planning.append(row["Planning Time"] * 1000)
        execution.append(row["Execution Time"] * 1000)
    if not planning:
        return {}
    return {
        "planning_us": round(statistics.median(planning), 1),
        "execution_us": round(statistics.median(execution), 1),
        "queries": len(planning),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--keys", type=int, default=200)
    args = parser.parse_args(argv)
    db = BenchDB(args.db)
    result: dict[str, Any] = {}
    with db.connect() as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        for parameter, tables in MAILADMIN_CHAINS.items():
            keys_file = db.out / "keys" / f"{parameter}.txt"
            if not keys_file.exists():
                continue
            keys = keys_file.read_text().split()[: args.keys]
            row = {"mailadmin": timings(conn, POSTFIX_QUERIES[tables[0]], keys, "public")}
            if parameter in postfixadmin.CHAINS:
                query = postfixadmin.QUERIES[postfixadmin.CHAINS[parameter][0]]
                row["postfixadmin"] = timings(conn, query, keys, postfixadmin.SCHEMA)
            result[parameter] = row
            print(parameter, json.dumps(row), flush=True)
    write_result(db.out / "explain.json", {"database": db.name, "parameters": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
