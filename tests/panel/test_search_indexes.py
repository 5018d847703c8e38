"""The trigram indexes behind the panel's substring searches: PostgreSQL gets them, reversibly;
MariaDB and SQLite get nothing."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from mailadmin import vendor_indexes

pytestmark = pytest.mark.django_db

MAILBOXES_0004 = importlib.import_module("mailboxes.migrations.0004_inactive_and_trigram_indexes")
MAILBOXES_0005 = importlib.import_module("mailboxes.migrations.0005_trigram_indexes_on_upper")
DOMAINS_0005 = importlib.import_module("domains.migrations.0005_trigram_indexes_on_upper")
REPLACED = [*MAILBOXES_0005.BARE_COLUMN, *DOMAINS_0005.BARE_COLUMN]
ALL = [
    *(index for index in MAILBOXES_0004.TRIGRAM_INDEXES if index not in REPLACED),
    *MAILBOXES_0005.UPPER_EXPRESSION,
    *DOMAINS_0005.UPPER_EXPRESSION,
]


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
    assert not {name for name, _table, _expression in REPLACED} & set(found)


def test_no_trigram_index_can_answer_a_lookup() -> None:
    """gin_trgm_ops answers `=` too (PostgreSQL 14+): on a bare column that Postfix's lookups
    compare, the generic plan the lookup functions reuse chose it over the unique btree index
    (30 times slower per lookup at 100k mailboxes). Every trigram index must be on an UPPER()
    expression, which only the panel's icontains searches compare."""
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexdef LIKE '%%gin_trgm_ops%%'"
        )
        found = dict(cursor.fetchall())
    assert len(found) == len(ALL)
    for name, definition in found.items():
        assert "USING gin (upper(" in definition, name


def test_searches_compare_the_indexed_expressions() -> None:
    """The SQL of each search names the expressions the trigram indexes are built on."""
    from domains.selectors import domain_list
    from mailboxes.selectors import alias_list, mailbox_list

    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")
    searches = {
        "mailboxes": str(mailbox_list(user=None, search="Bau").query),
        "aliases": str(alias_list(user=None, search="Bau").query),
        "domains": str(domain_list(user=None, search="Bau", counts=False).query),
    }
    assert 'UPPER("mailboxes_mailbox"."local_part"::text) LIKE' in searches["mailboxes"]
    assert 'UPPER("mailboxes_mailbox"."name"::text) LIKE' in searches["mailboxes"]
    assert 'UPPER("mailboxes_alias"."local_part"::text) LIKE' in searches["aliases"]
    assert 'UPPER("domains_domain"."name"::text) LIKE' in searches["domains"]
    assert 'UPPER("domains_domain"."description"::text) LIKE' in searches["domains"]


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


def test_searched_expressions_keep_a_larger_statistics_sample() -> None:
    """The planner's choice between the ordered index walk and the trigram indexes rests on
    its estimate of '%term%' matches; mailboxes 0007 samples ten times more rows for it."""
    statistics = importlib.import_module("mailboxes.migrations.0007_search_statistics")
    if connection.vendor != "postgresql":  # no trigram indexes, nothing to sample
        assert not set(statistics.SEARCHED) & set(index_definitions())
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, a.attstattarget FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE c.relname = ANY(%s) AND a.attnum = 1",
            [statistics.SEARCHED],
        )
        found = dict(cursor.fetchall())
    assert found == {index: statistics.STATISTICS for index in statistics.SEARCHED}
