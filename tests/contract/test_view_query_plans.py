"""MariaDB's and SQLite's exported queries find the key's domain through its index.

Neither server pushes a condition that holds a subquery into a view's UNION ALL branches, and
the U-label mapping of the domain key is one: each branch read every domain row to find the
key's domain, so a lookup cost in proportion to the number of domains (L9 in
docs/benchmarks.md). queries.u_label_guarded gives the domain as a constant to an ASCII key;
here SQLite's own plan of every exported query, expanded as Postfix expands it, must search
the contract's tables by index, never scan one. Their answers, U-label keys included, are
tests/contract/test_domain_states.py's.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from mailadmin.contract.queries import POSTFIX_QUERIES
from tests.contract.conftest import World, Worlds

pytestmark = pytest.mark.tools

# The aliases the views give the contract's tables (views_v1.py).
TABLE_ALIASES = {"d", "ad", "m", "a", "t", "r"}


def _setting(world: World, table: str, name: str) -> str:
    text = (world.out / "postfix" / f"{table}.cf").read_text()
    return next(line for line in text.splitlines() if line.startswith(f"{name} = "))[
        len(name) + 3 :
    ]


def _expanded(query: str, key: str) -> str:
    local, _, domain = key.rpartition("@")
    parts = {"s": key, "u": local, "d": domain}
    return re.sub(r"%([sud])", lambda m: parts[m.group(1)], query)


@pytest.mark.parametrize("table", sorted(POSTFIX_QUERIES))
def test_sqlite_lookups_search_every_table_by_index(worlds: Worlds, table: str) -> None:
    """The query for the key as it is: SQLite's plan searches every contract table by index.
    The U-label query after it (the exported text's one top-level UNION ALL; the views are
    named, not inlined) is skipped for an ASCII key: its constant condition is false."""
    world = worlds.get("sqlite")
    query, dbpath = _setting(world, table, "query"), _setting(world, table, "dbpath")
    direct, by_u_label = query.split(" UNION ALL ")
    for key in ("carol@example.com", "nobody@example.com", "@example.com", "example.com"):
        with sqlite3.connect(f"file:{dbpath}?mode=ro", uri=True) as conn:
            plan = conn.execute(f"EXPLAIN QUERY PLAN {_expanded(direct, key)}").fetchall()
            guard = by_u_label.split(" WHERE ", 1)[1].split(" AND EXISTS ", 1)[0]
            (skipped,) = conn.execute(f"SELECT NOT ({_expanded(guard, key)})").fetchone()
        scans = [detail for *_, detail in plan if detail.split()[:1] == ["SCAN"]]
        assert not [s for s in scans if s.split()[1] in TABLE_ALIASES], (table, key, scans)
        assert skipped, (table, key, guard)
