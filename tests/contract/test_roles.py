"""The read-only roles of the exported roles.sql, judged by PostgreSQL and MariaDB themselves.

Each test connects as a role with the password the exporter kept in .mailadmin-secrets.json
(the local PostgreSQL trusts 127.0.0.1 and ignores passwords, but privileges still apply).
The Postfix role may read the Postfix views only; the Dovecot role also the password hashes;
neither may read a table or write anything.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from mailadmin.contract.probes import ORDERED_BODIES
from mailadmin.contract.queries import LOOKUP_FUNCTIONS
from mailadmin.contract.views_v1 import ALL_VIEWS, POSTFIX_VIEWS
from tests.contract.conftest import DOVECOT_ROLE, POSTFIX_ROLE, World, Worlds
from tests.support import require_tool

pytestmark = pytest.mark.tools

TABLES = ["mailboxes_mailbox", "mailboxes_alias", "domains_domain", "auth_user"]
HIDDEN_FROM_POSTFIX = [
    "mailadmin_dovecot_passdb",
    "mailadmin_dovecot_userdb",
    "mailadmin_dovecot_sieve",
    "mailadmin_dovecot_owner",
    "mailadmin_quota_usage",
    *TABLES,
]
# PostgreSQL: insufficient_privilege, read_only_sql_transaction. MariaDB: command denied.
REFUSED_SQLSTATES = {"42501", "25006"}
REFUSED_MYSQL_CODES = {1142, 1143, 1044}
STOLEN_QUERY = "SELECT password FROM mailadmin_dovecot_passdb WHERE username = '%s'"


class Refused(Exception):
    pass


@contextmanager
def connect(world: World, role: str, password: str | None = None) -> Iterator[Any]:
    """A DB-API cursor of `role` on the world's database."""
    db = world.db
    password = world.secrets()[role] if password is None else password
    if world.dialect == "pgsql":
        import psycopg

        with psycopg.connect(
            host=db.host,
            port=db.port or 5432,
            dbname=db.name,
            user=role,
            password=password,
            autocommit=True,
        ) as conn:
            yield conn.cursor()
    else:
        import MySQLdb

        conn = MySQLdb.connect(
            host=db.host, port=db.port or 3306, user=role, passwd=password, db=db.name
        )
        conn.autocommit(True)  # as Dovecot's dict commits each write
        try:
            yield conn.cursor()
        finally:
            conn.close()


def run(world: World, role: str, sql: str) -> list[tuple[Any, ...]]:
    """Execute `sql` as `role`; raise Refused when the database denies it."""
    with connect(world, role) as cursor:
        if world.dialect == "pgsql":
            import psycopg

            try:
                cursor.execute(sql)
            except psycopg.Error as exc:
                if exc.sqlstate in REFUSED_SQLSTATES:
                    raise Refused(str(exc)) from None
                raise
        else:
            import MySQLdb

            try:
                cursor.execute(sql)
            except MySQLdb.OperationalError as exc:
                if exc.args[0] in REFUSED_MYSQL_CODES:
                    raise Refused(str(exc)) from None
                raise
        return list(cursor.fetchall()) if cursor.description else []


def test_the_secrets_file_holds_a_distinct_password_per_role(server_world: World) -> None:
    secrets = server_world.secrets()
    assert set(secrets) == {POSTFIX_ROLE, DOVECOT_ROLE}
    assert all(len(password) >= 24 for password in secrets.values())
    assert secrets[POSTFIX_ROLE] != secrets[DOVECOT_ROLE]
    roles_sql = (server_world.out / "sql" / "roles.sql").read_text()
    assert not any(password in roles_sql for password in secrets.values())  # hashed only


def test_postfix_tables_log_in_as_the_postfix_role(server_world: World) -> None:
    secrets = server_world.secrets()
    for table in (server_world.out / "postfix").glob("*.cf"):
        text = table.read_text()
        assert f"\nuser = {POSTFIX_ROLE}\n" in text
        assert f"\npassword = {secrets[POSTFIX_ROLE]}\n" in text
        assert secrets[DOVECOT_ROLE] not in text
    dovecot = (server_world.out / "dovecot" / "dovecot-sql.conf.ext").read_text()
    assert f"user={DOVECOT_ROLE} password={secrets[DOVECOT_ROLE]}" in dovecot


# The scenario lists no relay recipients; reading the view without an error is the point
# (tests/contract/test_domain_states.py reads its rows as the Postfix role).
EMPTY_IN_SCENARIO = ("mailadmin_postfix_relay_recipient",)


@pytest.mark.parametrize("view", POSTFIX_VIEWS)
def test_postfix_role_reads_the_postfix_views(server_world: World, view: str) -> None:
    ((count,),) = run(server_world, POSTFIX_ROLE, f"SELECT COUNT(*) FROM {view}")  # noqa: S608
    assert count > 0 or view in EMPTY_IN_SCENARIO


@pytest.mark.parametrize("relation", HIDDEN_FROM_POSTFIX)
def test_postfix_role_is_refused_hashes_and_tables(server_world: World, relation: str) -> None:
    with pytest.raises(Refused):
        run(server_world, POSTFIX_ROLE, f"SELECT * FROM {relation}")  # noqa: S608


@pytest.mark.parametrize("view", ALL_VIEWS)
def test_dovecot_role_reads_every_view(server_world: World, view: str) -> None:
    ((count,),) = run(server_world, DOVECOT_ROLE, f"SELECT COUNT(*) FROM {view}")  # noqa: S608
    assert count > 0 or view in EMPTY_IN_SCENARIO


def test_dovecot_role_reads_the_password_hashes(server_world: World) -> None:
    rows = run(
        server_world,
        DOVECOT_ROLE,
        "SELECT password FROM mailadmin_dovecot_passdb"
        " WHERE domain = 'example.com' AND local_part = 'alice'",
    )
    assert len(rows) == 1
    assert rows[0][0].startswith("{ARGON2ID}$argon2id$")


@pytest.mark.parametrize("relation", TABLES)
def test_dovecot_role_is_refused_the_tables(server_world: World, relation: str) -> None:
    with pytest.raises(Refused):
        run(server_world, DOVECOT_ROLE, f"SELECT * FROM {relation}")  # noqa: S608


@pytest.mark.parametrize("role", [POSTFIX_ROLE, DOVECOT_ROLE], ids=["postfix", "dovecot"])
@pytest.mark.parametrize(
    "statement",
    [
        # (The views join several tables: no database would write through them anyway.)
        "DELETE FROM mailboxes_mailbox",
        "INSERT INTO mailboxes_aliasdestination (alias_id, address) VALUES (1, 'x@evil.example')",
        "UPDATE domains_domain SET active = FALSE",
        "CREATE TABLE mailadmin_intruder (id INTEGER)",
        "DROP VIEW mailadmin_postfix_alias",
    ],
)
def test_roles_cannot_write(server_world: World, role: str, statement: str) -> None:
    with pytest.raises(Refused):
        run(server_world, role, statement)
    assert server_world.lookup("virtual_mailbox_maps", "alice@example.com") == "example.com/alice/"


def _usage_upsert(world: World, username: str, used: int) -> str:
    """The statement Dovecot's quota_clone makes through the SQL dict."""
    if world.dialect == "pgsql":
        return (
            "INSERT INTO mailadmin_quota_usage (username, bytes) VALUES"  # noqa: S608 - test constants
            f" ('{username}', {used}) ON CONFLICT (username) DO UPDATE SET bytes = EXCLUDED.bytes"
        )
    return (
        "INSERT INTO mailadmin_quota_usage (username, bytes) VALUES"  # noqa: S608 - test constants
        f" ('{username}', {used}) ON DUPLICATE KEY UPDATE bytes = VALUES(bytes)"
    )


def test_dovecot_role_writes_the_usage_and_triggers_find_the_mailbox(server_world: World) -> None:
    """quota_clone's upsert as the Dovecot role: allowed on this one table; the triggers, with
    their owner's rights, add the mailbox, its domain and the share of its quota."""
    for used in (1000, 2500):
        run(server_world, DOVECOT_ROLE, _usage_upsert(server_world, "alice@example.com", used))
    rows = run(
        server_world,
        DOVECOT_ROLE,
        "SELECT bytes, mailbox_id IS NOT NULL, domain_id IS NOT NULL FROM mailadmin_quota_usage"
        " WHERE username = 'alice@example.com'",
    )
    assert [tuple(row) for row in rows] == [(2500, True, True)]


@pytest.mark.parametrize(
    "statement",
    ["DELETE FROM mailadmin_quota_usage", "TRUNCATE mailadmin_quota_usage"],
)
def test_dovecot_role_cannot_delete_the_usage(server_world: World, statement: str) -> None:
    with pytest.raises(Refused):
        run(server_world, DOVECOT_ROLE, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE mailadmin_quota_usage SET mailbox_id = NULL",
        "UPDATE mailadmin_quota_usage SET domain_id = 1, permille = 1",
        "INSERT INTO mailadmin_quota_usage (username, bytes, mailbox_id) VALUES ('x@y.z', 1, 1)",
    ],
)
def test_dovecot_role_cannot_write_what_the_triggers_derive(
    server_world: World, statement: str
) -> None:
    run(server_world, DOVECOT_ROLE, _usage_upsert(server_world, "alice@example.com", 10))
    with pytest.raises(Refused):
        run(server_world, DOVECOT_ROLE, statement)


def test_postfix_role_cannot_write_the_usage(server_world: World) -> None:
    with pytest.raises(Refused):
        run(server_world, POSTFIX_ROLE, _usage_upsert(server_world, "alice@example.com", 1))


def _pgsql_functions_executable_by(world: World, role: str) -> dict[str, tuple[int, str]]:
    """Every function outside the system schemas that `role` may execute: name -> (number of
    arguments, source), as the database itself reports it.

    Left out: functions of installed extensions (pg_trgm's, for the panel's search) that run with
    the caller's rights; they can read nothing the role could not read itself. An extension
    function that runs as its owner (SECURITY DEFINER) is listed like any other."""
    with connect(world, DOVECOT_ROLE) as cursor:  # any role may read the catalogue
        cursor.execute(
            "SELECT p.proname, p.pronargs, p.prosrc FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
            "   AND has_function_privilege(%s, p.oid, 'EXECUTE')"
            "   AND (p.prosecdef OR NOT EXISTS ("
            "     SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass"
            "       AND d.objid = p.oid AND d.deptype = 'e'))",
            (role,),
        )
        return {name: (nargs, source) for name, nargs, source in cursor.fetchall()}


# The tables behind the Postfix views that the lookup functions' ordered probes
# (probes.py) read; never one that holds a hash or a login.
PROBED_TABLES = {
    "domains_domain",
    "domains_aliasdomain",
    "domains_relayrecipient",
    "domains_serversettings",
    "mailboxes_alias",
    "mailboxes_aliasdestination",
    "mailboxes_mailbox",
}


def test_postfix_role_executes_only_the_lookup_functions(worlds: Worlds) -> None:
    world = worlds.get("pgsql")
    executable = _pgsql_functions_executable_by(world, POSTFIX_ROLE)
    assert set(executable) == {function.name for function in LOOKUP_FUNCTIONS}
    ordered = {function.name for function in LOOKUP_FUNCTIONS if function.table in ORDERED_BODIES}
    for name, (_, source) in executable.items():
        # The arguments are values, never SQL: no dynamic statement.
        assert "EXECUTE" not in source.upper().replace("RETURN QUERY", ""), name
        assert "dovecot" not in source and "password" not in source, name
        # An ordered function reads the tables behind its view, any other its view only.
        tables = set(re.findall(r"\b(?:mailboxes|domains)_\w+", source))
        assert tables <= (PROBED_TABLES if name in ordered else set()), name
    assert _pgsql_functions_executable_by(world, DOVECOT_ROLE) == {}


@pytest.mark.parametrize(
    "arguments",
    [
        ("example.com", "alice"),
        ("example.com", "@example.com"),
        ("example.com", "alice' OR TRUE --"),
        ("example.com'; SELECT password FROM mailadmin_dovecot_passdb --", "alice"),
    ],
    ids=["address", "catch-all key", "quote in local part", "quote in domain"],
)
def test_postfix_role_gets_no_hash_through_any_function(
    worlds: Worlds, arguments: tuple[str, str]
) -> None:
    """SECURITY DEFINER runs as the owner, who may read the passdb view: no argument of any
    function the Postfix role may execute must lead there."""
    world = worlds.get("pgsql")
    executable = _pgsql_functions_executable_by(world, POSTFIX_ROLE)
    hashes = {
        row[0] for row in run(world, DOVECOT_ROLE, "SELECT password FROM mailadmin_dovecot_passdb")
    }
    assert hashes
    answers = []
    with connect(world, POSTFIX_ROLE) as cursor:
        for name, (nargs, _) in executable.items():
            values = arguments[:nargs]
            placeholders = ", ".join("%s" for _ in values)
            cursor.execute(f"SELECT * FROM {name}({placeholders})", values)  # noqa: S608
            answers += [str(row[0]) for row in cursor.fetchall()]
    assert not hashes & set(answers)
    assert not any("$argon2" in answer or answer.startswith("{") for answer in answers)
    if arguments == ("example.com", "alice"):
        assert answers  # the functions answered at all: this test can see a leak


def test_postmap_as_the_postfix_role_cannot_read_password_hashes(
    server_world: World, tmp_path: Any
) -> None:
    """A .cf file with the Postfix role's credentials, asking the passdb view: refused."""
    require_tool("postmap")
    exported = (server_world.out / "postfix" / "virtual_mailbox_maps.cf").read_text()
    connection = [line for line in exported.splitlines() if not line.startswith("query =")]
    table = tmp_path / "stolen.cf"
    table.write_text("\n".join([*connection, f"query = {STOLEN_QUERY}", ""]))
    result = subprocess.run(
        ["postmap", "-q", "alice@example.com", f"{server_world.dialect}:{table}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "denied" in result.stderr


def test_mariadb_refuses_a_role_without_its_password(worlds: Worlds) -> None:
    import MySQLdb

    world = worlds.get("mysql")
    for role in (POSTFIX_ROLE, DOVECOT_ROLE):
        with (
            pytest.raises(MySQLdb.OperationalError) as info,
            connect(world, role, password="not-the-password"),
        ):
            pass
        assert info.value.args[0] == 1045  # access denied
