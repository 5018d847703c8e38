"""SQLite's Postfix file: the Postfix views without the hashes, in step with every panel write.

A contract database made by `manage.py migrate` and filled through the services (the world of
tests/contract/scenario.py); both files are then read with Python's own sqlite3, read-only.
The real Postfix reading the file as the postfix user is tests/e2e/test_sqlite_stack.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailadmin.contract import views_v1
from mailadmin.contract.queries import POSTFIX_QUERIES
from mailadmin.contract.sqlite_files import postfix_database
from tests.contract.conftest import export_maps
from tests.contract.scenario import BUILD
from tests.support import ContractDB, create_contract_db


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractDB]:
    db = create_contract_db("sqlite", tmp_path_factory.mktemp("sqlite-files"))
    db.python(BUILD)
    yield db


def postfix_file(db: ContractDB) -> Path:
    return Path(postfix_database(db.name))


def read(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return sorted(conn.execute(sql).fetchall(), key=repr)


def views(path: Path) -> dict[str, list[tuple[object, ...]]]:
    return {name: read(path, f"SELECT * FROM {name}") for name in views_v1.POSTFIX_VIEWS}  # noqa: S608


def assert_in_step(db: ContractDB) -> None:
    panel, postfix = views(Path(db.name)), views(postfix_file(db))
    for name in views_v1.POSTFIX_VIEWS:
        assert postfix[name] == panel[name], name


def test_postfix_file_lies_beside_the_panel_file() -> None:
    assert postfix_database("/var/lib/mailadmin/mailadmin.sqlite3") == (
        "/var/lib/mailadmin/mailadmin-postfix.sqlite3"
    )
    assert postfix_database("/srv/db") == "/srv/db-postfix.sqlite3"


def test_migrate_builds_the_postfix_file_with_every_postfix_view(world_db: ContractDB) -> None:
    assert_in_step(world_db)
    counts = {name: len(rows) for name, rows in views(postfix_file(world_db)).items()}
    assert counts["mailadmin_postfix_mailbox"] > 10 and counts["mailadmin_postfix_alias"] > 10


def test_no_lookup_scans_more_tables_on_the_postfix_file(world_db: ContractDB) -> None:
    """The copy carries the panel's indexes (partial ones with their condition): no exported
    query reads a whole table of the copy where it searches an index of the panel's file."""

    def scans(path: Path, sql: str) -> int:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        # "SCAN m" reads a table; "SCAN mailadmin_postfix_x" walks the view's own rows.
        return sum(
            str(detail).startswith("SCAN ")
            and not str(detail).startswith("SCAN mailadmin_postfix_")
            for *_, detail in rows
        )

    for table, query in POSTFIX_QUERIES.items():
        sql = query.replace("%s", "john@example.com").replace("%u", "john")
        sql = sql.replace("%d", "example.com")
        assert scans(postfix_file(world_db), sql) <= scans(Path(world_db.name), sql), table


def test_postfix_file_holds_no_password_hash(world_db: ContractDB) -> None:
    (stored,) = read(Path(world_db.name), "SELECT password FROM mailboxes_mailbox LIMIT 1")[0]
    assert isinstance(stored, str) and stored.startswith("{ARGON2ID}")
    path = postfix_file(world_db)
    assert stored.encode() not in path.read_bytes()
    assert b"{ARGON2ID}" not in path.read_bytes()
    objects = read(path, "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view')")
    assert {name for kind, name in objects if kind == "view"} == set(views_v1.POSTFIX_VIEWS)
    for kind, name in objects:
        if kind == "table":
            columns = {row[1] for row in read(path, f"PRAGMA table_info({name})")}
            assert "password" not in columns, name


def test_every_kind_of_change_reaches_the_postfix_file_at_once(world_db: ContractDB) -> None:
    world_db.python(
        """
from domains.models import AliasDomain, Domain
from domains import services as ds
from mailadmin import passwords
from mailboxes.models import Alias, Mailbox
from mailboxes import services as ms

example = Domain.objects.get(name="example.com")
ms.mailbox_create(actor=None, address="newbie@example.com",
                  password_hash=passwords.hash_password("a new one 1"))
ms.mailbox_set_active(actor=None, active=False,
                      mailbox=Mailbox.objects.get(domain=example, local_part="alice"))
ms.mailbox_delete(actor=None, mailbox=Mailbox.objects.get(domain=example, local_part="mixed"))
ms.alias_delete(actor=None, alias=Alias.objects.get(domain=example, local_part="team"))
ms.alias_create(actor=None, address="sales@example.com",
                destinations=["bob@example.com", "x@elsewhere.net"])
ds.domain_update(actor=None, domain=Domain.objects.get(name="nocatch.example"),
                 transport="smtp:[mx.internal]:25")
ds.alias_domain_create(actor=None, name="late-alias.example", target="example.com")
ds.server_settings_update(actor=None, default_uid=5300, default_gid=5400)
"""
    )
    assert_in_step(world_db)
    mailboxes = read(
        postfix_file(world_db), "SELECT local_part, domain FROM mailadmin_postfix_mailbox"
    )
    assert ("newbie", "example.com") in mailboxes
    assert ("alice", "example.com") not in mailboxes and ("mixed", "example.com") not in mailboxes
    domains = read(postfix_file(world_db), "SELECT domain FROM mailadmin_postfix_domain")
    assert ("late-alias.example",) in domains


def test_a_rolled_back_write_changes_neither_file(world_db: ContractDB) -> None:
    before = views(postfix_file(world_db))
    world_db.python(
        """
from django.db import transaction
from mailadmin import passwords
from mailboxes.services import mailbox_create

try:
    with transaction.atomic():
        mailbox_create(actor=None, address="ghost@example.com",
                       password_hash=passwords.hash_password("never 1"))
        raise RuntimeError("rolled back")
except RuntimeError:
    pass
"""
    )
    assert views(postfix_file(world_db)) == before
    assert_in_step(world_db)


def test_a_lost_postfix_file_is_built_again_by_the_next_connection(
    tmp_path: Path,
) -> None:
    db = create_contract_db("sqlite", tmp_path)
    db.manage("domain", "add", "example.com")
    path = postfix_file(db)
    path.unlink()
    db.manage("domain", "add", "example.net")
    assert read(path, "SELECT domain FROM mailadmin_postfix_domain") == [
        ("example.com",),
        ("example.net",),
    ]


def test_a_postfix_file_written_behind_the_panel_is_put_right_by_migrate(
    tmp_path: Path,
) -> None:
    db = create_contract_db("sqlite", tmp_path)
    db.manage("domain", "add", "example.com")
    with sqlite3.connect(postfix_file(db)) as conn:
        conn.execute("DELETE FROM postfix_domains_domain")
    assert read(postfix_file(db), "SELECT domain FROM mailadmin_postfix_domain") == []
    db.manage("migrate", "--no-input", "-v", "0")
    assert read(postfix_file(db), "SELECT domain FROM mailadmin_postfix_domain") == [
        ("example.com",)
    ]


def test_both_files_use_a_rollback_journal_and_a_wal_file_is_turned_back(
    tmp_path: Path,
) -> None:
    """Readers of a WAL file need write access to its -shm file; Postfix and Dovecot have
    read access only."""
    db = create_contract_db("sqlite", tmp_path)
    for path in (Path(db.name), postfix_file(db)):
        assert read(path, "PRAGMA journal_mode") == [("delete",)]
    with sqlite3.connect(db.name) as conn:
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    db.manage("domain", "add", "example.com")
    assert read(Path(db.name), "PRAGMA journal_mode") == [("delete",)]
    assert not Path(f"{db.name}-shm").exists()


def test_exported_files_send_postfix_to_its_file_and_dovecot_to_the_panel_file(
    world_db: ContractDB, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export_maps(world_db, out)
    tables = sorted((out / "postfix").glob("*.cf"))
    assert tables
    for table in tables:
        assert f"\ndbpath = {postfix_file(world_db)}\n" in table.read_text(), table
    dovecot = (out / "dovecot" / "dovecot-sql.conf.ext").read_text()
    assert f"\nconnect = {world_db.name}\n" in dovecot
    roles = (out / "sql" / "roles.sql").read_text()
    assert str(postfix_file(world_db)) in roles and "group postfix" in roles
