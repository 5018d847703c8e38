"""Finding L1 measured: the exported lookup functions against the view queries they replaced.

    .venv/bin/python -m bench.planfix --db mailadmin_bench_1m [--keys 4000] [--repeat 3]

Run after bench.lookups (it reuses the key sets). It migrates the database and exports it
again as bench.lookups does (so the lookup functions exist and roles.sql grants them), then
measures each parameter's chain in two forms, with the same keys through the same postmap:

- ``views``: every table querying its view directly (queries.POSTFIX_QUERIES): PostgreSQL
  plans the view at every lookup, since Postfix sends each one as a new literal query;
- ``functions``: the exported tables as they are on PostgreSQL, each calling its
  mailadmin_postfix_*_lookup function (queries.LOOKUP_FUNCTIONS), whose plan PL/pgSQL keeps
  for the connection.

Both forms must give the same answer for every key; a difference is reported and fails the run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.common import BenchDB, write_result
from bench.lookups import MAILADMIN_CHAINS, compare, export_mailadmin, measure
from mailadmin.contract.export import atomic_write
from mailadmin.contract.queries import POSTFIX_QUERIES

VARIANTS = ("views", "functions")


def write_view_tables(exported: Path, out: Path) -> None:
    """The exported tables with the view query in place of the function call."""
    for name, query in POSTFIX_QUERIES.items():
        lines = (exported / f"{name}.cf").read_text().splitlines()
        kept = [ln for ln in lines if not ln.startswith(("#", "query ="))]
        atomic_write(out / f"{name}.cf", "\n".join([*kept, f"query = {query}"]) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--keys", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    db = BenchDB(args.db)
    if not (db.out / "keys").exists():
        print("run bench.lookups first", file=sys.stderr)
        return 2
    export_mailadmin(db, db.out / "export")
    folders = {"functions": db.out / "export" / "postfix", "views": db.out / "planfix"}
    write_view_tables(folders["functions"], folders["views"])

    result: dict[str, Any] = {}
    differences = 0
    for parameter, tables in MAILADMIN_CHAINS.items():
        keys = (db.out / "keys" / f"{parameter}.txt").read_text().split()[: args.keys]
        result[parameter] = {}
        answers = {}
        for variant in VARIANTS:
            chain = [f"pgsql:{folders[variant] / t}.cf" for t in tables]
            row = measure(chain, keys, args.repeat)
            answers[variant] = row.pop("answers")
            result[parameter][variant] = row
        result[parameter]["differences"] = compare(answers["views"], answers["functions"])
        differences += result[parameter]["differences"]["count"]
    for parameter, row in result.items():
        line = " | ".join(f"{v} {row[v]['us_per_lookup']} us" for v in VARIANTS)
        print(f"{parameter:24} {line}")
    write_result(db.out / "planfix.json", {"database": db.name, "parameters": result})
    print(json.dumps({"written": str(db.out / "planfix.json"), "differences": differences}))
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
