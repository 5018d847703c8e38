"""The triggers that keep domains_domainusage (models.DomainUsage) equal to the rows it counts.

The panel shows each domain's mailbox and alias counts and its allocated quota on every list,
and the dashboard looks for hosted domains without a mailbox. Counting them per page read a
100,000-mailbox domain through the heap twice (172 ms of SQL on a domain admin's list at a
million mailboxes, docs/benchmarks.md); reading a counter row costs the same at any size.

Triggers rather than service code: imports, restores, the PostfixAdmin migration and the
benchmark seeder write these tables in bulk or through querysets, and so can an operator's raw
SQL; a counter that only the services kept would drift under any of them.

- PostgreSQL: statement-level triggers with transition tables, so a bulk INSERT ... SELECT of a
  million mailboxes costs one grouped UPDATE, not a million single-row ones on the same
  counter row. The trigger functions run with the caller's rights; nobody but their owner may
  call them (the read-only Postfix and Dovecot roles execute only the lookup functions).
- MariaDB and SQLite: row-level triggers (neither has transition tables).

Django deletes cascaded rows itself (no ON DELETE CASCADE in the schema), so a domain's
mailboxes and aliases are deleted by statements that fire these triggers too; MariaDB would
not fire them for a foreign key's own cascade.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

USAGE = "domains_domainusage"
DOMAIN = "domains_domain"

# Counted table -> (usage column, what one row adds; {row} is NEW or OLD).
COUNTED: dict[str, list[tuple[str, str]]] = {
    "mailboxes_mailbox": [("mailboxes", "1"), ("quota_allocated", "{row}.quota")],
    "mailboxes_alias": [("aliases", "1")],
}
# Columns whose change moves a row's contribution (an update of anything else changes nothing).
MOVED_BY = {"mailboxes_mailbox": ["domain_id", "quota"], "mailboxes_alias": ["domain_id"]}

BACKFILL = f"""
    INSERT INTO {USAGE} (domain_id, mailboxes, aliases, quota_allocated)
    SELECT d.id,
        (SELECT COUNT(*) FROM mailboxes_mailbox m WHERE m.domain_id = d.id),
        (SELECT COUNT(*) FROM mailboxes_alias a WHERE a.domain_id = d.id),
        (SELECT COALESCE(SUM(m.quota), 0) FROM mailboxes_mailbox m WHERE m.domain_id = d.id)
    FROM {DOMAIN} d
"""

# Domains whose counter row is missing or differs from counting their rows now: the check of
# what these triggers keep (selectors.usage_drift). It reads every mailbox.
DRIFT = f"""
    SELECT d.name FROM {DOMAIN} d LEFT JOIN {USAGE} u ON u.domain_id = d.id
     WHERE u.domain_id IS NULL
        OR u.mailboxes <> (SELECT COUNT(*) FROM mailboxes_mailbox m WHERE m.domain_id = d.id)
        OR u.aliases <> (SELECT COUNT(*) FROM mailboxes_alias a WHERE a.domain_id = d.id)
        OR u.quota_allocated <> (
            SELECT COALESCE(SUM(m.quota), 0) FROM mailboxes_mailbox m WHERE m.domain_id = d.id)
     ORDER BY d.name
"""

EVENTS = ("insert", "update", "delete")


def _name(table: str, event: str) -> str:
    """e.g. domainusage_on_mailbox_insert: the trigger and its PostgreSQL function."""
    return f"domainusage_on_{table.split('_', 1)[1]}_{event}"


# PostgreSQL ---------------------------------------------------------------------------------


def _pgsql_delta(table: str, event: str) -> str:
    """The rows of the statement as (domain_id, +/- per counter), from the transition tables."""
    counters = COUNTED[table]
    parts = []
    if event in ("insert", "update"):
        values = ", ".join(f"{expr.format(row='r')} AS {col}" for col, expr in counters)
        parts.append(f"SELECT r.domain_id, {values} FROM added r")
    if event in ("delete", "update"):
        values = ", ".join(f"-({expr.format(row='r')}) AS {col}" for col, expr in counters)
        parts.append(f"SELECT r.domain_id, {values} FROM removed r")
    return " UNION ALL ".join(parts)


def _pgsql_function(table: str, event: str) -> str:
    counters = COUNTED[table]
    sums = ", ".join(f"SUM({col}) AS {col}" for col, _ in counters)
    changed = " OR ".join(f"SUM({col}) <> 0" for col, _ in counters)
    sets = ", ".join(f"{col} = u.{col} + c.{col}" for col, _ in counters)
    return f"""
        CREATE OR REPLACE FUNCTION {_name(table, event)}() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
            UPDATE {USAGE} AS u SET {sets}
            FROM (SELECT domain_id, {sums} FROM ({_pgsql_delta(table, event)}) AS delta
                  GROUP BY domain_id HAVING {changed}) AS c
            WHERE u.domain_id = c.domain_id;
            RETURN NULL;
        END
        $body$
    """


def _pgsql_transitions(event: str) -> str:
    return {
        "insert": "NEW TABLE AS added",
        "update": "OLD TABLE AS removed NEW TABLE AS added",
        "delete": "OLD TABLE AS removed",
    }[event]


def _pgsql_create() -> Iterator[str]:
    added = _name(DOMAIN, "insert")
    yield f"""
        CREATE OR REPLACE FUNCTION {added}() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            INSERT INTO {USAGE} (domain_id, mailboxes, aliases, quota_allocated)
            SELECT id, 0, 0, 0 FROM added ON CONFLICT (domain_id) DO NOTHING;
            RETURN NULL;
        END
        $body$
    """
    yield f"REVOKE ALL ON FUNCTION {added}() FROM PUBLIC"
    yield (
        f"CREATE TRIGGER {added} AFTER INSERT ON {DOMAIN} REFERENCING NEW TABLE AS added"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {added}()"
    )
    for table in COUNTED:
        for event in EVENTS:
            name = _name(table, event)
            yield _pgsql_function(table, event)
            yield f"REVOKE ALL ON FUNCTION {name}() FROM PUBLIC"
            yield (
                f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table}"
                f" REFERENCING {_pgsql_transitions(event)}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )


def _pgsql_drop() -> Iterator[str]:
    for table in [DOMAIN, *COUNTED]:
        for event in EVENTS if table in COUNTED else ("insert",):
            yield f"DROP TRIGGER IF EXISTS {_name(table, event)} ON {table}"
            yield f"DROP FUNCTION IF EXISTS {_name(table, event)}()"


# MariaDB and SQLite -------------------------------------------------------------------------


def _row_updates(table: str, row: str, sign: str) -> str:
    sets = ", ".join(f"{col} = {col} {sign} {expr.format(row=row)}" for col, expr in COUNTED[table])
    return f"UPDATE {USAGE} SET {sets} WHERE domain_id = {row}.domain_id;"


def _row_level_create(vendor: str) -> Iterator[str]:
    zero = (
        f"INSERT INTO {USAGE} (domain_id, mailboxes, aliases, quota_allocated)"
        " VALUES (NEW.id, 0, 0, 0)"
    )
    body = f"BEGIN {zero}; END" if vendor == "sqlite" else zero
    yield f"CREATE TRIGGER {_name(DOMAIN, 'insert')} AFTER INSERT ON {DOMAIN} FOR EACH ROW {body}"
    for table in COUNTED:
        moved = MOVED_BY[table]
        when = " OR ".join(f"NEW.{col} <> OLD.{col}" for col in moved)
        bodies = {
            "insert": _row_updates(table, "NEW", "+"),
            "delete": _row_updates(table, "OLD", "-"),
            # Add before subtracting: MariaDB's unsigned columns refuse a negative step between.
            "update": _row_updates(table, "NEW", "+") + " " + _row_updates(table, "OLD", "-"),
        }
        for event in EVENTS:
            head = f"CREATE TRIGGER {_name(table, event)} AFTER {event.upper()}"
            if vendor == "sqlite" and event == "update":
                head += f" OF {', '.join(moved)} ON {table} FOR EACH ROW WHEN {when}"
                yield f"{head} BEGIN {bodies[event]} END"
            elif vendor == "sqlite":
                yield f"{head} ON {table} FOR EACH ROW BEGIN {bodies[event]} END"
            elif event == "update":  # MariaDB: no WHEN clause, an IF in a compound body
                yield (
                    f"{head} ON {table} FOR EACH ROW"
                    f" BEGIN IF {when} THEN {bodies[event]} END IF; END"
                )
            else:  # MariaDB: one statement, no trailing semicolon
                yield f"{head} ON {table} FOR EACH ROW {bodies[event].rstrip(';')}"


def _row_level_drop() -> Iterator[str]:
    yield f"DROP TRIGGER IF EXISTS {_name(DOMAIN, 'insert')}"
    for table in COUNTED:
        for event in EVENTS:
            yield f"DROP TRIGGER IF EXISTS {_name(table, event)}"


# Migration operations ------------------------------------------------------------------------


def create(apps: Any, schema_editor: Any) -> None:
    """Triggers first, then the counts: on PostgreSQL creating a trigger blocks writes to its
    table until the migration commits; on MariaDB (DDL commits at once) a row written between
    the two steps finds no counter row to change and is counted by the backfill."""
    vendor = schema_editor.connection.vendor
    statements = _pgsql_create() if vendor == "postgresql" else _row_level_create(vendor)
    for statement in statements:
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)


def drop(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in _pgsql_drop() if vendor == "postgresql" else _row_level_drop():
        schema_editor.execute(statement)


class _CursorEditor:
    """What create() and drop() need of a schema editor, over a plain cursor."""

    def __init__(self, connection: Any, cursor: Any) -> None:
        self.connection = connection
        self._cursor = cursor

    def execute(self, sql: str) -> None:
        self._cursor.execute(sql)


def restore_after_sqlite_migrate(*, using: str = "default", **kwargs: Any) -> None:
    """SQLite drops a table's triggers whenever Django rebuilds the table, and the order in
    which migrations run changes as apps add theirs: after every migrate the triggers are made
    again and the counters counted afresh, whichever migration rebuilt what."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if ("domains", "0006_domain_usage") not in MigrationRecorder(connection).applied_migrations():
        return
    with connection.cursor() as cursor:
        editor = _CursorEditor(connection, cursor)
        drop(None, editor)
        cursor.execute(f"DELETE FROM {USAGE}")
        create(None, editor)
