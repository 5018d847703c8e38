"""SQLite: the Postfix file, a copy without password hashes kept in the panel's transactions.

SQLite has no roles: whoever reads a database file reads all of it, and Postfix's proxymap
runs as the postfix user. So Postfix never opens the panel's file. Beside it (`NAME` ->
`NAME-postfix.sqlite3`, `postfix_database()`) lies a second file that holds the tables the
Postfix views read, with only the columns they read (never a password), under the same
Postfix views of views_v1. The exported `.cf` files name that file; Dovecot, which may read
hashes, reads the panel's file.

The copy is never refreshed after the fact. Every panel connection ATTACHes the Postfix file
and installs TEMP triggers on the copied tables (`install()`, from connection_created), so
each INSERT, UPDATE or DELETE writes the same row into the Postfix file in the same
statement, and a commit changes both files at once: with a rollback journal (never WAL, see
dburl.py) SQLite commits a transaction over attached files atomically through a
super-journal. Postfix therefore sees a change at the next lookup, as on PostgreSQL.

The file is built again from the panel's file (schema and every row, in one transaction)
after every migrate and whenever a connection finds it missing or built for other tables or
views (its user_version is a digest of its schema, `Plan.version`). A writer that bypasses
the panel's connections (the sqlite3 shell) is not copied; `manage.py migrate` puts the file
back in step. docs/mail-stack.md (SQLite) weighs the design.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any

from django.db import connections, transaction

from mailadmin.contract import views_v1

SCHEMA = "mailadmin_postfix"  # the ATTACH name of the Postfix file on panel connections
# Never copied, whatever table holds them.
SECRET_COLUMNS = frozenset({"password"})
_TABLE_ALIAS = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_]+)\s+([a-z_]+)")


def postfix_database(panel_database: str) -> str:
    """Where the Postfix file of the panel's SQLite file `panel_database` lies."""
    path = PurePosixPath(panel_database)
    return str(path.with_name(f"{path.stem}-postfix{path.suffix or '.sqlite3'}"))


def copy_name(table: str) -> str:
    # Prefixed: a trigger body names tables unqualified, and SQLite would resolve a name the
    # panel's file also has to the panel's own table.
    return f"postfix_{table}"


def postfix_view_bodies() -> dict[str, str]:
    return {
        name: body
        for name, body in views_v1.view_statements("sqlite")
        if name in views_v1.POSTFIX_VIEWS
    }


def read_columns() -> dict[str, set[str]]:
    """Table -> the columns the Postfix views read of it (every column is qualified there)."""
    wanted: dict[str, set[str]] = {}
    for body in postfix_view_bodies().values():
        for table, alias in _TABLE_ALIAS.findall(body):
            columns = wanted.setdefault(table, {"id"})
            columns.update(re.findall(rf"\b{alias}\.([a-z_]+)", body))
    return wanted


@dataclass(frozen=True)
class Plan:
    """What the Postfix file holds, from the panel's file as it is now."""

    columns: dict[str, tuple[tuple[str, str], ...]]  # table -> (column, declared type)
    indexes: tuple[tuple[str, tuple[str, ...], str], ...]  # (table, columns, WHERE or "")

    def schema_sql(self) -> list[str]:
        """Drop and create the copy's tables, indexes and the Postfix views (in SCHEMA)."""
        statements = [f"DROP VIEW IF EXISTS {SCHEMA}.{name}" for name in views_v1.ALL_VIEWS]
        for table, columns in self.columns.items():
            body = ", ".join(
                f"{column} {'INTEGER PRIMARY KEY' if column == 'id' else kind}"
                for column, kind in columns
            )
            statements += [
                f"DROP TABLE IF EXISTS {SCHEMA}.{copy_name(table)}",
                f"CREATE TABLE {SCHEMA}.{copy_name(table)} ({body})",
            ]
        # The panel's indexes on plain columns, partial ones with their condition, without
        # their uniqueness (the panel's file keeps the rules, the copy only answers): each
        # lookup is planned as on the panel's file.
        for number, (table, keys, where) in enumerate(self.indexes):
            statements.append(
                f"CREATE INDEX {SCHEMA}.{copy_name(table)}_{number}"
                f" ON {copy_name(table)} ({', '.join(keys)})" + (f" WHERE {where}" if where else "")
            )
        pattern = re.compile(r"\b(" + "|".join(self.columns) + r")\b")
        for name, body in postfix_view_bodies().items():
            copy_body = pattern.sub(lambda match: copy_name(match.group(1)), body)
            statements.append(f"CREATE VIEW {SCHEMA}.{name} AS{copy_body}")
        return statements

    def _names(self, table: str) -> str:
        return ", ".join(column for column, _ in self.columns[table])

    def copy_sql(self) -> list[str]:
        """Copy every row of the copied tables from the panel's file."""
        return [
            f"INSERT INTO {SCHEMA}.{copy_name(table)} ({self._names(table)})"
            f" SELECT {self._names(table)} FROM main.{table}"
            for table in self.columns
        ]

    @cached_property
    def trigger_sql(self) -> list[str]:
        """TEMP triggers that write each change of a copied table into the Postfix file."""
        statements = []
        for table, columns in self.columns.items():
            names = self._names(table)
            new = ", ".join(f"NEW.{column}" for column, _ in columns)
            copy = copy_name(table)
            insert = f"INSERT OR REPLACE INTO {copy} ({names}) VALUES ({new});"
            prefix = f"mailadmin_copy_{table}"
            statements += [
                f"CREATE TEMP TRIGGER {prefix}_insert AFTER INSERT ON main.{table}"
                f" BEGIN {insert} END",
                f"CREATE TEMP TRIGGER {prefix}_update AFTER UPDATE ON main.{table}"
                f" BEGIN DELETE FROM {copy} WHERE id = OLD.id; {insert} END",
                f"CREATE TEMP TRIGGER {prefix}_delete AFTER DELETE ON main.{table}"
                f" BEGIN DELETE FROM {copy} WHERE id = OLD.id; END",
            ]
        return statements

    def drop_trigger_sql(self) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS temp.mailadmin_copy_{table}_{event}"
            for table in self.columns
            for event in ("insert", "update", "delete")
        ]

    @cached_property
    def version(self) -> int:
        """PRAGMA user_version of a Postfix file built by this plan (never 0, a new file)."""
        digest = hashlib.sha256("\n".join(self.schema_sql()).encode()).hexdigest()
        return int(digest[:7], 16) | 1


def plan(cursor: Any) -> Plan | None:
    """The plan for the panel's file behind `cursor`; None while its tables lack a table or
    column the Postfix views read (before the migrate that makes them)."""
    columns: dict[str, tuple[tuple[str, str], ...]] = {}
    indexes: list[tuple[str, tuple[str, ...], str]] = []
    for table, wanted in read_columns().items():
        cursor.execute(f"PRAGMA main.table_info({table})")
        declared = {row[1]: row[2] for row in cursor.fetchall()}
        if not wanted <= set(declared):
            return None  # a migrate is due (or running): it rebuilds the file when done
        copied = [column for column in declared if column in wanted - SECRET_COLUMNS]
        columns[table] = tuple((column, declared[column]) for column in copied)
        cursor.execute(f"PRAGMA main.index_list({table})")
        for index, partial in [(row[1], row[4]) for row in cursor.fetchall()]:
            cursor.execute(f"PRAGMA main.index_info({index})")
            keys = tuple(row[2] for row in cursor.fetchall())
            where = _partial_condition(cursor, index) if partial else ""
            uncopied = set(declared) - set(copied)
            if (
                keys
                and all(key in copied for key in keys)
                and where is not None
                and not any(re.search(rf"\b{column}\b", where) for column in uncopied)
            ):
                indexes.append((table, keys, where))
    return Plan(columns, tuple(sorted(set(indexes))))


def _partial_condition(cursor: Any, index: str) -> str | None:
    """The WHERE of a partial index, as its CREATE INDEX wrote it (None: not found)."""
    cursor.execute("SELECT sql FROM main.sqlite_master WHERE type = 'index' AND name = %s", [index])
    row = cursor.fetchone()
    match = re.search(r"\)\s+WHERE\s+(.+)$", row[0] if row and row[0] else "", re.DOTALL)
    return match.group(1).strip() if match else None


def _is_file(settings_dict: dict[str, Any]) -> bool:
    name = str(settings_dict.get("NAME") or "")
    return bool(name) and name != ":memory:" and not name.startswith("file:")


def _attached(cursor: Any) -> bool:
    cursor.execute("PRAGMA database_list")
    return any(row[1] == SCHEMA for row in cursor.fetchall())


_PLANS: dict[tuple[str, int], Plan] = {}


def install(connection: Any, *, rebuild_now: bool = False) -> None:
    """ATTACH the Postfix file to a panel connection and install the copying triggers.

    Builds the file (schema and every row) when it is new or was built for other tables or
    views, or when `rebuild_now`; nothing before the first migrate made the tables.
    """
    if connection.vendor != "sqlite" or not _is_file(connection.settings_dict):
        return
    path = postfix_database(str(connection.settings_dict["NAME"]))
    with connection.cursor() as cursor:
        if not _attached(cursor):
            cursor.execute(f"ATTACH DATABASE %s AS {SCHEMA}", [path])
        # The plan changes only with the panel's schema: read it once per schema version.
        cursor.execute("PRAGMA main.schema_version")
        key = (path, cursor.fetchone()[0])
        current = _PLANS.get(key) or plan(cursor)
        if current is None:
            return
        _PLANS[key] = current
        cursor.execute(f"PRAGMA {SCHEMA}.user_version")
        if rebuild_now or cursor.fetchone()[0] != current.version:
            with transaction.atomic(using=connection.alias):
                for statement in current.schema_sql() + current.copy_sql():
                    cursor.execute(statement)
                cursor.execute(f"PRAGMA {SCHEMA}.user_version = {current.version}")
        # A new connection has no TEMP trigger; after a migrate on this connection the old
        # ones may name other columns.
        for statement in (current.drop_trigger_sql() if rebuild_now else []) + current.trigger_sql:
            cursor.execute(statement)


def on_connection_created(*, connection: Any, **kwargs: Any) -> None:
    install(connection)


def drop_triggers_before_migrate(*, using: str = "default", **kwargs: Any) -> None:
    """Lift the copying triggers for a migrate: SQLite refuses to drop or rename a column a
    trigger names (migrating back), and rebuild_after_migrate copies every row again anyway."""
    connection = connections[using]
    if connection.vendor != "sqlite" or not _is_file(connection.settings_dict):
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_temp_master WHERE type = 'trigger'"
            " AND name LIKE 'mailadmin_copy_%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP TRIGGER IF EXISTS temp.{name}")


def rebuild_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    """Copy everything again once migrate is done: tables may have been rebuilt."""
    install(connections[using], rebuild_now=True)
