"""SQLite cannot rebuild a table that a view reads: lift the views around every migrate.

Django changes most SQLite tables by creating a new one and renaming it into place, and since
SQLite 3.26 that rename fails while a view names the old table ("error in view
mailadmin_postfix_domain: no such table"). On SQLite, the embedded single-machine set-up,
the contract migrations create nothing; the views are dropped before every migrate and
created again after it, so any later table change can run. Postfix and Dovecot see a short
gap and retry. PostgreSQL and MariaDB keep their views throughout.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from mailadmin.contract import views_v1

CREATED_BY = ("contract", "0001_views_v1")


def drop_before_migrate(*, using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for statement in views_v1.drop_sql("sqlite"):
            cursor.execute(statement)


def create_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    # Only where the contract's migrations say the views belong (not after migrating back).
    if CREATED_BY not in MigrationRecorder(connection).applied_migrations():
        return
    with connection.cursor() as cursor:
        for statement in views_v1.create_sql("sqlite"):
            cursor.execute(statement)
