"""Migrations carry the SQL they ran; the live modules describe what a fresh migrate makes.

A migration that imports views_v1.py or queries.py runs today's SQL inside an old step: a
fresh database then differs from one migrated step by step, and the step back undoes
something other than what the step did. So every migration keeps its SQL as frozen text, and:

- no migration file of any app imports a live contract module or domains.usage_triggers;
- a fresh migrate ends with exactly the views and (PostgreSQL) lookup functions that
  views_v1.py and queries.py describe, and the usage triggers domains/usage_triggers.py
  describes: changing those modules takes a new migration;
- the contract migrations step back to exactly the state each earlier one left, down to zero,
  and forward again;
- each frozen migration runs with only its declared dependencies applied.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db.migrations.loader import MigrationLoader

from domains import usage_triggers
from mailadmin.contract import login_triggers, queries, usage_table, views_v1
from tests.support import ContractDB, create_contract_db, drop_contract_db

ROOT = Path(__file__).resolve().parents[2]
SERVER_DIALECTS = ("pgsql", "mysql")
VENDORS = {"pgsql": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}

# Modules whose SQL follows the code: a migration carries its own copy instead.
LIVE = ("mailadmin.contract", "domains.usage_triggers")
# What a migration may still name there: the vendor -> dialect map, and other migrations.
STABLE = ("mailadmin.contract.dialects", "mailadmin.contract.migrations")


# Imports -------------------------------------------------------------------------------------


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def _is_live(module: str) -> bool:
    return _within(module, LIVE) and not _within(module, STABLE)


def _imported(tree: ast.AST, package: str) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything `tree` imports, at any depth, relative imports
    resolved against `package`; import_module("...") and __import__("...") count too."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args:
            func, first = node.func, node.args[0]
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant):
                yield node.lineno, str(first.value)


def _migration_files() -> list[tuple[str, Path]]:
    """(package, file) of every migration of the project's own apps."""
    installed = (Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve())
    files = []
    for app in apps.get_app_configs():
        folder = Path(app.path).resolve() / "migrations"
        if any(folder.is_relative_to(prefix) for prefix in installed):
            continue
        files += [(f"{app.name}.migrations", path) for path in sorted(folder.glob("*.py"))]
    return files


def test_no_migration_imports_live_sql() -> None:
    files = _migration_files()
    names = {f"{package}.{path.stem}" for package, path in files}
    assert "mailadmin.contract.migrations.0001_views_v1" in names
    assert "domains.migrations.0006_domain_usage" in names
    found = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for package, path in files
        for line, module in _imported(ast.parse(path.read_text()), package)
        if _is_live(module)
    ]
    assert not found, "migrations importing live SQL (freeze the text instead):\n" + "\n".join(
        found
    )


@pytest.mark.parametrize(
    ("source", "live"),
    [
        ("from mailadmin.contract import views_v1", True),
        ("import mailadmin.contract.queries", True),
        ("from mailadmin.contract.files import lookup_functions_create_sql", True),
        ("from .. import trace", True),
        ("from mailadmin import contract", True),
        ("def f():\n    from domains.usage_triggers import create", True),
        ("from domains import usage_triggers", True),
        ("importlib.import_module('mailadmin.contract.sqlite_views')", True),
        ("from mailadmin.contract.dialects import dialect_of", False),
        ("from mailadmin import vendor_indexes", False),
        ("import mailadmin.text", False),
        ("from . import other_migration", False),
    ],
)
def test_the_import_check_sees_every_form(source: str, live: bool) -> None:
    modules = [
        module for _, module in _imported(ast.parse(source), "mailadmin.contract.migrations")
    ]
    assert any(_is_live(module) for module in modules) is live, modules


# Database state ------------------------------------------------------------------------------


@contextmanager
def _connect(db: ContractDB) -> Iterator[Any]:
    """The owner's connection; on PostgreSQL one transaction, rolled back at the end."""
    if db.dialect == "pgsql":
        import psycopg

        with psycopg.connect(db.url) as conn:
            try:
                yield conn.cursor()
            finally:
                conn.rollback()
    elif db.dialect == "mysql":
        import MySQLdb

        conn = MySQLdb.connect(host=db.host, port=db.port or 3306, user="root", db=db.name)
        try:
            yield conn.cursor()
        finally:
            conn.close()
    else:
        import sqlite3

        lite = sqlite3.connect(db.name)
        try:
            yield lite.cursor()
        finally:
            lite.close()


PG_VIEWS = """
SELECT c.relname, pg_get_viewdef(c.oid),
       (SELECT array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                         ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'v' AND n.nspname = %s AND c.relname LIKE 'mailadmin!_%%' ESCAPE '!'
"""
PG_FUNCTIONS = """
SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid),
       p.prosrc, p.prosecdef, p.provolatile, p.proconfig, p.proacl::text[]
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = %s AND p.proname LIKE 'mailadmin!_%%' ESCAPE '!'
"""
MYSQL_VIEWS = """
SELECT TABLE_NAME, VIEW_DEFINITION, SECURITY_TYPE, CHECK_OPTION
  FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()
"""
MYSQL_COLUMNS = """
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLLATION_NAME
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY ORDINAL_POSITION
"""

State = dict[str, dict[str, tuple[Any, ...]]]


def _pg_state(cursor: Any, schema: str = "public") -> State:
    views = {row[0]: tuple(row[1:]) for row in cursor.execute(PG_VIEWS, (schema,))}
    functions = {row[0]: tuple(row[1:]) for row in cursor.execute(PG_FUNCTIONS, (schema,))}
    return {"views": views, "functions": functions}


def _mysql_state(cursor: Any, prefix: str = "") -> State:
    """The views named prefix + mailadmin_..., keyed by their name without the prefix."""
    cursor.execute(MYSQL_COLUMNS)
    columns: dict[str, list[tuple[Any, ...]]] = {}
    for table, *column in cursor.fetchall():
        columns.setdefault(table, []).append(tuple(column))
    cursor.execute(MYSQL_VIEWS)
    views = {
        name.removeprefix(prefix): (*rest, tuple(columns[name]))
        for name, *rest in cursor.fetchall()
        if name.startswith(prefix + "mailadmin_")
    }
    return {"views": views, "functions": {}}


def _state(db: ContractDB) -> State:
    with _connect(db) as cursor:
        return _pg_state(cursor) if db.dialect == "pgsql" else _mysql_state(cursor)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ContractDB]]:
    """A freshly migrated database per dialect, made on first use; read, never changed."""
    made: dict[str, ContractDB] = {}

    def get(dialect: str) -> ContractDB:
        if dialect not in made:
            made[dialect] = create_contract_db(dialect, tmp_path_factory.mktemp(dialect))
        return made[dialect]

    yield get
    for db in made.values():
        drop_contract_db(db)


# A fresh migrate against the live modules ----------------------------------------------------


def test_pgsql_fresh_migrate_has_the_live_views_and_functions(fresh: Any) -> None:
    db = fresh("pgsql")
    with _connect(db) as cursor:
        # The live SQL in a schema of its own, over the same tables (rolled back).
        cursor.execute("CREATE SCHEMA mailadmin_live")
        cursor.execute("SET LOCAL search_path = mailadmin_live, public")
        for statement in views_v1.create_sql("pgsql") + queries.lookup_functions_create_sql():
            cursor.execute(statement)
        # Both read under one search_path, so that the definitions name the tables alike.
        live = _pg_state(cursor, "mailadmin_live")
        migrated = _pg_state(cursor)
    assert set(migrated["views"]) == set(views_v1.ALL_VIEWS)
    assert set(migrated["functions"]) == {function.name for function in queries.LOOKUP_FUNCTIONS}
    assert migrated == live


def test_mysql_fresh_migrate_has_the_live_views(fresh: Any) -> None:
    db = fresh("mysql")
    prefix = "live_"
    with _connect(db) as cursor:
        migrated = _mysql_state(cursor)
        try:
            for statement in views_v1.create_sql("mysql"):
                cursor.execute(
                    re.sub(r" VIEW (mailadmin_\w+) AS", rf" VIEW {prefix}\1 AS", statement)
                )
            live = _mysql_state(cursor, prefix)
        finally:
            for name in views_v1.ALL_VIEWS:
                cursor.execute(f"DROP VIEW IF EXISTS {prefix}{name}")
    assert set(migrated["views"]) == set(views_v1.ALL_VIEWS)
    assert set(live["views"]) == set(views_v1.ALL_VIEWS)
    for name, definition in live["views"].items():
        assert migrated["views"][name] == definition, f"{name} differs from the live SQL"


class _Recorder:
    """A schema editor that only writes down what it is asked to execute."""

    def __init__(self, vendor: str) -> None:
        self.connection = SimpleNamespace(vendor=vendor)
        self.statements: list[str] = []

    def execute(self, sql: str) -> None:
        self.statements.append(sql)


PG_TRIGGERS = """
SELECT t.tgname, pg_get_triggerdef(t.oid), p.prosrc
  FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE NOT t.tgisinternal AND t.tgname LIKE 'domainusage!_%' ESCAPE '!'
"""
MYSQL_TRIGGERS = """
SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, ACTION_ORIENTATION,
       ACTION_STATEMENT
  FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()
   AND TRIGGER_NAME LIKE 'domainusage!_%' ESCAPE '!'
"""


def _usage_triggers(db: ContractDB, prefix: str = "domainusage_") -> dict[str, tuple[str, ...]]:
    """Each trigger named `prefix`...: its CREATE TRIGGER statement (and function body on
    PostgreSQL)."""
    like = prefix.replace("_", "!_") + "%"
    with _connect(db) as cursor:
        if db.dialect == "pgsql":
            cursor.execute(PG_TRIGGERS.replace("'domainusage!_%'", f"'{like}'"))
            return {
                name: (definition.replace(" ON public.", " ON "), body)
                for name, definition, body in cursor.fetchall()
            }
        if db.dialect == "mysql":
            cursor.execute(MYSQL_TRIGGERS.replace("'domainusage!_%'", f"'{like}'"))
            return {
                name: (f"CREATE TRIGGER {name} {timing} {event} ON {table} FOR EACH {each} {body}",)
                for name, timing, event, table, each, body in cursor.fetchall()
            }
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        return {name: (sql,) for name, sql in cursor.fetchall() if name.startswith(prefix)}


def _live_usage_triggers(dialect: str) -> dict[str, tuple[str, ...]]:
    editor = _Recorder(VENDORS[dialect])
    usage_triggers.create(None, editor)
    return _triggers_of(dialect, editor.statements)


def _triggers_of(dialect: str, statements: list[str]) -> dict[str, tuple[str, ...]]:
    """CREATE TRIGGER statement (and, on PostgreSQL, its function's body) by trigger name."""
    bodies = {
        match[1]: match[2]
        for statement in statements
        if (match := re.search(r"FUNCTION (\w+)\(\) .*?\$body\$(.*)\$body\$", statement, re.S))
    }
    triggers: dict[str, tuple[str, ...]] = {}
    for statement in statements:
        if statement.startswith("CREATE TRIGGER "):
            name = statement.split()[2]
            triggers[name] = (statement, bodies[name]) if dialect == "pgsql" else (statement,)
    return triggers


@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
def test_fresh_migrate_has_the_live_usage_triggers(fresh: Any, dialect: str) -> None:
    live = _live_usage_triggers(dialect)
    assert len(live) == 7
    assert _usage_triggers(fresh(dialect)) == live


@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
@pytest.mark.parametrize(
    ("prefix", "live"),
    [("mailboxlogin_", login_triggers.CREATE), ("quotausage_", usage_table.CREATE)],
    ids=["logins", "quota-usage"],
)
def test_fresh_migrate_has_the_live_login_and_quota_usage_triggers(
    fresh: Any, dialect: str, prefix: str, live: dict[str, list[str]]
) -> None:
    expected = _triggers_of(dialect, live[VENDORS[dialect]])
    assert expected
    assert _usage_triggers(fresh(dialect), prefix) == expected


# Stepping back -------------------------------------------------------------------------------


def _contract_migrations() -> list[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sorted(name for app, name in loader.disk_migrations if app == "contract")


@pytest.mark.parametrize("dialect", SERVER_DIALECTS)
def test_contract_migrations_step_back_to_each_earlier_state(dialect: str, tmp_path: Path) -> None:
    names = _contract_migrations()
    db = create_contract_db(dialect, tmp_path)
    try:
        head = _state(db)
        back: dict[str, State] = {}
        for target in reversed(["zero", *names[:-1]]):
            db.manage("migrate", "contract", target, "--no-input", "-v", "0")
            back[target] = _state(db)
        assert back["zero"] == {"views": {}, "functions": {}}
        version_1 = {"domain", "mailbox", "alias", "sender_login"}
        assert set(back[names[0]]["views"]) == {
            *(f"mailadmin_postfix_{name}" for name in version_1),
            "mailadmin_dovecot_userdb",
            "mailadmin_dovecot_passdb",
        }
        for target in names[:-1]:
            db.manage("migrate", "contract", target, "--no-input", "-v", "0")
            assert _state(db) == back[target], f"forward to {target} differs from back to it"
        db.manage("migrate", "--no-input", "-v", "0")
        assert _state(db) == head
    finally:
        drop_contract_db(db)


# Dependencies --------------------------------------------------------------------------------

# Steps in which every target's dependencies include all the targets before it, so each
# migration runs with no more applied than its own dependencies.
CONTRACT_CHAIN = [("contract", name) for name in _contract_migrations()]
USAGE_CHAIN = [("domains", "0006_domain_usage"), ("mailboxes", "0008_path_rules")]


@pytest.mark.parametrize(
    ("dialect", "chain"),
    [
        *((dialect, CONTRACT_CHAIN) for dialect in SERVER_DIALECTS),
        *((dialect, USAGE_CHAIN) for dialect in ("pgsql", "mysql", "sqlite")),
    ],
)
def test_frozen_migrations_need_only_their_dependencies(
    dialect: str, chain: list[tuple[str, str]], tmp_path: Path
) -> None:
    db = create_contract_db(dialect, tmp_path, migrate=False)
    try:
        for app, name in chain:
            db.manage("migrate", app, name, "--no-input", "-v", "0")
    finally:
        drop_contract_db(db)


# mailboxes 0008 on SQLite, with rows -----------------------------------------------------

FILL_AT_0007 = """
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

state = MigrationExecutor(connection).loader.project_state(
    [("domains", "0007_plain_text_descriptions"), ("mailboxes", "0007_search_statistics")]
)
Domain = state.apps.get_model("domains", "Domain")
Mailbox = state.apps.get_model("mailboxes", "Mailbox")
Alias = state.apps.get_model("mailboxes", "Alias")
domain = Domain.objects.create(name="a.example")
Domain.objects.create(name="b.example")
Mailbox.objects.create(domain=domain, local_part="x", path="a.example/x/", quota=5, password="{X}-")
Alias.objects.create(domain=domain, local_part="y")
"""
USAGE = "SELECT domain_id, mailboxes, aliases, quota_allocated FROM domains_domainusage"


def test_sqlite_path_rules_keep_the_usage_counts_of_existing_rows(tmp_path: Path) -> None:
    import sqlite3

    db = create_contract_db("sqlite", tmp_path, migrate=False)
    db.manage("migrate", "domains", "0007_plain_text_descriptions", "--no-input", "-v", "0")
    db.manage("migrate", "mailboxes", "0007_search_statistics", "--no-input", "-v", "0")
    db.python(FILL_AT_0007)

    def usage() -> list[tuple[int, ...]]:
        with sqlite3.connect(db.name) as conn:
            return sorted(conn.execute(USAGE).fetchall())

    counted = usage()
    assert counted == [(1, 1, 1, 5), (2, 0, 0, 0)]
    db.manage("migrate", "mailboxes", "0008_path_rules", "--no-input", "-v", "0")
    assert usage() == counted
    assert len(_usage_triggers(db)) == 7
    db.manage("migrate", "mailboxes", "0007_search_statistics", "--no-input", "-v", "0")
    assert usage() == counted
    assert len(_usage_triggers(db)) == 7
