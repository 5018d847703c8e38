"""Two candidate fixes for the lookup cost, measured against the current contract in one run.

    .venv/bin/python -m bench.planfix --db mailadmin_bench_1m [--keys 4000] [--repeat 3]

Run after bench.lookups (it reuses the exported files, the roles and the key sets):

- ``views``: the exported tables as they are (every lookup is planned from scratch: Postfix
  sends each one as a new literal query);
- ``functions``: the same view queries wrapped in PL/pgSQL functions (schema ``benchx``,
  SECURITY DEFINER, EXECUTE granted to the Postfix role), so PostgreSQL plans each statement
  once per connection and reuses the plan; the .cf files call
  ``SELECT * FROM benchx.<map>(lower('%d'), lower('%u'))`` (the expansions the exported
  query uses, in the same form);
- ``views_no_fk_index`` and ``functions_no_fk_index``: both again, with the single-column
  indexes on mailboxes_mailbox.domain_id and mailboxes_alias.domain_id dropped (the unique
  (domain_id, local_part) indexes cover them); they are created again afterwards, exactly as
  they were.

Nothing here changes the contract; the benchx schema stays in the benchmark database only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.common import BenchDB, write_result
from bench.lookups import MAILADMIN_CHAINS, measure
from mailadmin.contract.export import atomic_write
from mailadmin.contract.files import POSTFIX_QUERIES

FK_INDEXES = {
    "mailboxes_mailbox": "domain_id",
    "mailboxes_alias": "domain_id",
}


# Postfix's expansions in the exported queries -> the function's parameters, in this order.
_PARAMETERS = (
    ("lower('%d')", "p_domain"),
    ("lower('%u')", "p_local"),
    ("lower('%s')", "p_key"),
    ("'%s'", "p_raw"),
)


def function_sql(role: str) -> tuple[str, dict[str, str]]:
    """CREATE FUNCTION for every exported map; map -> the query that calls it."""
    statements = ["CREATE SCHEMA IF NOT EXISTS benchx;"]
    calls = {}
    for name, query in POSTFIX_QUERIES.items():
        body, used = query, []
        for token, param in _PARAMETERS:  # lower('%s') before the bare '%s' inside it
            if token in body:
                body = body.replace(token, param)
                used.append((token, param))
        column = body.split()[1]
        body = body.replace(f"SELECT {column}", f"SELECT {column}::text", 1)
        signature = ", ".join(f"{param} text" for _, param in used)
        statements.append(
            f"CREATE OR REPLACE FUNCTION benchx.{name}({signature})"
            " RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER"
            f" SET search_path = public AS $$ BEGIN RETURN QUERY {body}; END $$;"
        )
        arguments = ", ".join(token for token, _ in used)
        calls[name] = f"SELECT * FROM benchx.{name}({arguments})"
    statements.append(f"GRANT USAGE ON SCHEMA benchx TO {role};")
    statements.append(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA benchx TO {role};")
    return "\n".join(statements), calls


def write_function_tables(exported: Path, out: Path, calls: dict[str, str]) -> None:
    for name, call in calls.items():
        lines = (exported / f"{name}.cf").read_text().splitlines()
        kept = [ln for ln in lines if not ln.startswith(("#", "query ="))]
        atomic_write(out / f"{name}.cf", "\n".join([*kept, f"query = {call}"]) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--keys", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    db = BenchDB(args.db)
    exported = db.out / "export" / "postfix"
    if not (db.out / "keys").exists():
        print("run bench.lookups first", file=sys.stderr)
        return 2
    sql, calls = function_sql(f"{db.name}_postfix")
    db.contract_db().execute_admin(sql)
    fn_dir = db.out / "planfix"
    write_function_tables(exported, fn_dir, calls)

    def chain(parameter: str, folder: Path, use_functions: bool) -> list[str]:
        return [
            f"pgsql:{(fn_dir if use_functions and t in calls else folder) / t}.cf"
            for t in MAILADMIN_CHAINS[parameter]
        ]

    parameters = list(MAILADMIN_CHAINS)
    keys = {p: (db.out / "keys" / f"{p}.txt").read_text().split()[: args.keys] for p in parameters}
    result: dict[str, Any] = {p: {} for p in parameters}
    for parameter in parameters:
        for variant, use_functions in (("views", False), ("functions", True)):
            row = measure(chain(parameter, exported, use_functions), keys[parameter], args.repeat)
            row.pop("answers")
            result[parameter][variant] = row
    with db.connect() as conn:
        dropped = []
        for table, column in FK_INDEXES.items():
            found = conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
                " AND indexdef LIKE %s",
                (table, f"%({column})"),
            ).fetchall()
            for index, definition in found:
                conn.execute(f'DROP INDEX "{index}"')
                dropped.append(definition)
        try:
            for parameter in parameters:
                for variant, use_functions in (
                    ("views_no_fk_index", False),
                    ("functions_no_fk_index", True),
                ):
                    row = measure(
                        chain(parameter, exported, use_functions), keys[parameter], args.repeat
                    )
                    row.pop("answers")
                    result[parameter][variant] = row
        finally:
            for definition in dropped:  # exactly as they were, names included
                conn.execute(definition)
    for parameter, row in result.items():
        line = " | ".join(f"{v} {r['us_per_lookup']} us" for v, r in row.items())
        print(f"{parameter:24} {line}")
    write_result(db.out / "planfix.json", {"database": db.name, "parameters": result})
    print(json.dumps({"written": str(db.out / "planfix.json")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
