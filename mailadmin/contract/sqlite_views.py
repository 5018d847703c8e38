"""SQLite cannot rebuild a table that a view reads: lift the views around every migrate.

Django changes most SQLite tables by creating a new one and renaming it into place, and since
SQLite 3.26 that rename fails while a view names the old table ("error in view
mailadmin_postfix_domain: no such table"). On SQLite, the embedded single-machine set-up,
the contract migrations create nothing; the views are dropped before every migrate and
created again after it, so any later table change can run. Postfix and Dovecot see a short
gap and retry. PostgreSQL and MariaDB keep their views throughout.

The same holds for triggers: SQLite drops a table's own triggers with the table it rebuilds,
and a trigger elsewhere whose body names the table fails the rename as a view does. The
triggers that keep mailboxes_mailboxlogin (login_triggers.py) and mailadmin_quota_usage
(usage_table.py) are dropped before and made again after every migrate, once their
migrations have run.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from mailadmin.contract import login_triggers, usage_table, views_v1

CREATED_BY = ("contract", "0001_views_v1")
LOGINS_CREATED_BY = ("mailboxes", "0009_mailbox_login")
USAGE_CREATED_BY = ("contract", "0006_dovecot_delivery")
# The table the usage triggers are made with; the other statements of usage_table.CREATE.
_USAGE_TRIGGERS = [s for s in usage_table.CREATE["sqlite"] if s.startswith("CREATE TRIGGER")]
_USAGE_TRIGGER_NAMES = [s.split()[2] for s in _USAGE_TRIGGERS]


def drop_before_migrate(*, using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for statement in views_v1.drop_sql("sqlite"):
            cursor.execute(statement)
        for name in _USAGE_TRIGGER_NAMES:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in login_triggers.DROP["sqlite"]:
            cursor.execute(statement)


def create_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    # Only where the contract's migrations say the views belong (not after migrating back).
    applied = MigrationRecorder(connection).applied_migrations()
    with connection.cursor() as cursor:
        if LOGINS_CREATED_BY in applied:
            # The mailboxes a migration wrote while the triggers were lifted get theirs first.
            cursor.execute(login_triggers.BACKFILL["sqlite"])
            for statement in login_triggers.DROP["sqlite"] + login_triggers.CREATE["sqlite"]:
                cursor.execute(statement)
        if USAGE_CREATED_BY in applied:
            for name, statement in zip(_USAGE_TRIGGER_NAMES, _USAGE_TRIGGERS, strict=True):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                cursor.execute(statement)
        if CREATED_BY in applied:
            for statement in views_v1.create_sql("sqlite"):
                cursor.execute(statement)
