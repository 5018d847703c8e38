"""The database dialects the mail-stack contract speaks, by Django connection vendor."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

DIALECTS = ("pgsql", "mysql", "sqlite")
_BY_VENDOR = {"postgresql": "pgsql", "mysql": "mysql", "sqlite": "sqlite"}


def dialect_of(connection: BaseDatabaseWrapper) -> str:
    try:
        return _BY_VENDOR[connection.vendor]
    except KeyError:
        raise RuntimeError(f"mailadmin does not support the {connection.vendor} database") from None
