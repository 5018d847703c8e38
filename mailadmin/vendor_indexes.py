"""Indexes that only some database servers can have: trigram (pg_trgm) indexes for the panel's
substring searches (PostgreSQL), their statistics targets, and partial indexes (PostgreSQL and
SQLite).

The searches are `LIKE '%term%'` (and Django's icontains, `UPPER(col::text) LIKE UPPER(...)`),
which a btree cannot serve: without these indexes they read every row of the domain (186 ms in a
100,000-mailbox domain). A GIN gin_trgm_ops index on the very expression the query compares
answers them from the index. MariaDB and SQLite get nothing and keep scanning.

The extension is trusted (PostgreSQL 13+): the database owner may create it. Reversing drops the
indexes, not the extension, which other objects of the database may use.

These are migration operations and a stable API: every migration that calls them runs them
again on each fresh database, so the SQL a function emits for given arguments never changes
(the contract's SQL, which does change, is frozen in its migrations instead). Different SQL
is a new function here, for new migrations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# (index name, table, indexed expression)
TrigramIndex = tuple[str, str, str]


def forward(indexes: Sequence[TrigramIndex]) -> Callable[[Any, Any], None]:
    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, expression in indexes:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table}"
                f" USING gin ({expression} gin_trgm_ops)"
            )

    return create


def backward(indexes: Sequence[TrigramIndex]) -> Callable[[Any, Any], None]:
    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, _table, _expression in indexes:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return drop


# (index name, table, column list, condition)
PartialIndex = tuple[str, str, str, str]

PARTIAL_INDEX_VENDORS = ("postgresql", "sqlite")


def create_partial(indexes: Sequence[PartialIndex]) -> Callable[[Any, Any], None]:
    """Partial indexes where the server has them; MariaDB would silently drop the condition
    (Django's Index(condition=...) does) and build a full index instead."""

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor not in PARTIAL_INDEX_VENDORS:
            return
        for name, table, columns, condition in indexes:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns}) WHERE {condition}"
            )

    return create


def drop_partial(indexes: Sequence[PartialIndex]) -> Callable[[Any, Any], None]:
    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor not in PARTIAL_INDEX_VENDORS:
            return
        for name, _table, _columns, _condition in indexes:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return drop


def statistics_target(indexes: Sequence[str], target: int) -> Callable[[Any, Any], None]:
    """Set the ANALYZE sample of each (trigram, PostgreSQL-only) index's expression; -1 goes
    back to the server's default_statistics_target."""

    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in indexes:
            schema_editor.execute(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS {target}")

    return run
