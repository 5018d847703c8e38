"""The trigram indexes behind the panel's substring searches: PostgreSQL gets them, reversibly;
MariaDB and SQLite get nothing."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from mailadmin import vendor_indexes

pytestmark = pytest.mark.django_db

MAILBOXES = importlib.import_module("mailboxes.migrations.0004_inactive_and_trigram_indexes")
DOMAINS = importlib.import_module("domains.migrations.0004_domain_name_trigram")
ALL = [*MAILBOXES.TRIGRAM_INDEXES, *DOMAINS.TRIGRAM_INDEXES]


def index_definitions() -> dict[str, str]:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
            return {name: sql or "" for name, sql in cursor.fetchall()}
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            found: dict[str, str] = {}
            for table in {table for _name, table, _expr in ALL}:
                found.update(
                    {name: "" for name in connection.introspection.get_constraints(cursor, table)}
                )
            return found
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%%_trgm'")
        return dict(cursor.fetchall())


def test_trigram_indexes_exist_on_postgresql_only() -> None:
    found = index_definitions()
    for name, _table, _expression in ALL:
        if connection.vendor == "postgresql":
            assert "gin_trgm_ops" in found[name]
        else:
            assert name not in found
    if connection.vendor == "postgresql":
        assert "upper((name)::text)" in found["mailbox_name_upper_trgm"]


def test_trigram_migration_reverses_and_reapplies() -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's schema editor cannot run inside the test's transaction")
    with connection.schema_editor() as editor:
        vendor_indexes.backward(ALL)(None, editor)
    assert not {name for name, _t, _e in ALL} & set(index_definitions())
    with connection.schema_editor() as editor:
        vendor_indexes.forward(ALL)(None, editor)
    if connection.vendor == "postgresql":
        assert {name for name, _t, _e in ALL} <= set(index_definitions())
