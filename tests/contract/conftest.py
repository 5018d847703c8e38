"""One realistic world per dialect, exported once, queried by the real postmap.

Each dialect's world is built at most once per test session (see ``Worlds``): a fresh
migrated database, filled by tests/contract/scenario.py through the services layer, exported
with ``manage.py export_maps`` exactly as an operator would, and on PostgreSQL and MariaDB
with the exported ``sql/roles.sql`` applied as superuser, so that postmap connects as the
read-only Postfix role, never as the panel's owner.

The read-only roles are server-wide objects, so each session gets its own pair
(``mailadmin_test_postfix_<id>``): roles.sql revokes every earlier grant of its roles and sets
their passwords, and two sessions sharing one role name would undo each other's grants and
passwords halfway through a run. The roles are dropped with the databases at the end.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.contract.scenario import BUILD
from tests.support import (
    ContractDB,
    create_contract_db,
    drop_contract_db,
    drop_roles,
    require_tool,
)

DIALECTS = ("pgsql", "mysql", "sqlite")
SERVER_DIALECTS = ("pgsql", "mysql")  # the dialects that have roles

_SESSION_ID = uuid.uuid4().hex[:8]
POSTFIX_ROLE = f"mailadmin_test_postfix_{_SESSION_ID}"
DOVECOT_ROLE = f"mailadmin_test_dovecot_{_SESSION_ID}"
SECRETS_FILE = ".mailadmin-secrets.json"


def export_maps(
    db: ContractDB,
    out: Path,
    *extra: str,
    roles: tuple[str, str] = (POSTFIX_ROLE, DOVECOT_ROLE),
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run the exporter for `db` into `out`, as the operator's documented command does."""
    return db.manage(
        "export_maps",
        "--dialect",
        db.dialect,
        "--out",
        str(out),
        "--db-url",
        db.url,  # the panel's URL: user and host, never a password
        "--postfix-dir",
        str(out / "postfix"),
        "--no-proxy",
        "--postfix-role",
        roles[0],
        "--dovecot-role",
        roles[1],
        *extra,
        check=check,
    )


@dataclass
class World:
    """A built, exported world of one dialect."""

    db: ContractDB
    out: Path

    @property
    def dialect(self) -> str:
        return self.db.dialect

    def table(self, name: str) -> str:
        """The Postfix table reference of an exported file, e.g. pgsql:/…/postfix/x.cf."""
        return f"{self.dialect}:{self.out / 'postfix' / name}.cf"

    def lookup(self, table: str, key: str, *, fold: bool = True) -> str | None:
        """`postmap -q KEY DIALECT:table.cf`: the result (rows comma-joined) or None.

        fold=False passes -f, so the key reaches the query in the case given: by default
        postmap, like the Postfix daemons, lowercases the key first.
        """
        return postmap_query(self.table(table), key, fold=fold)

    def lookup_all(self, table: str, keys: list[str], *, fold: bool = True) -> list[str]:
        """`postmap -q - DIALECT:table.cf` with one key a line: the "key<TAB>result" lines."""
        return postmap_query_stdin(self.table(table), keys, fold=fold)

    def secrets(self) -> dict[str, str]:
        data: dict[str, str] = json.loads((self.out / SECRETS_FILE).read_text())
        return data


def postmap_query(table: str, key: str, *, fold: bool = True) -> str | None:
    postmap = require_tool("postmap")
    args = [postmap, "-q", key, table] if fold else [postmap, "-f", "-q", key, table]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    # "Not found" is exit status 1 and silence; an error is also status 1, with a message.
    if result.stderr or result.returncode not in (0, 1):
        raise AssertionError(
            f"postmap -q {key!r} {table} failed ({result.returncode}): {result.stderr}"
        )
    if result.returncode == 1:
        return None
    return result.stdout.removesuffix("\n")


def postmap_query_stdin(table: str, keys: list[str], *, fold: bool = True) -> list[str]:
    postmap = require_tool("postmap")
    assert not any("\n" in key for key in keys)
    args = [postmap, "-q", "-", table] if fold else [postmap, "-f", "-q", "-", table]
    result = subprocess.run(
        args, input="".join(f"{key}\n" for key in keys), capture_output=True, text=True, timeout=60
    )
    if result.stderr or result.returncode not in (0, 1):
        raise AssertionError(f"postmap -q - {table} failed ({result.returncode}): {result.stderr}")
    return result.stdout.splitlines()


@dataclass
class Worlds:
    """Builds each dialect's world on first use and drops them all at the end.

    `build` is the Django code that fills the database (the scenario by default) and `roles`
    the read-only roles it exports for: a registry of other worlds needs roles of its own,
    since roles.sql sets the passwords of the roles it names.
    """

    base: Path
    build: str = BUILD
    roles: tuple[str, str] = (POSTFIX_ROLE, DOVECOT_ROLE)
    built: dict[str, World] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def get(self, dialect: str) -> World:
        if dialect in self.skipped:
            pytest.skip(self.skipped[dialect])
        if dialect not in self.built:
            try:
                self.built[dialect] = self._build(dialect)
            except pytest.skip.Exception as exc:
                self.skipped[dialect] = str(exc)
                raise
        return self.built[dialect]

    def _build(self, dialect: str) -> World:
        folder = self.base / dialect
        folder.mkdir()
        db = create_contract_db(dialect, folder)
        world = World(db, folder / "out")
        try:
            db.python(self.build)
            export_maps(db, world.out, roles=self.roles)
            if dialect in SERVER_DIALECTS:
                db.execute_admin((world.out / "sql" / "roles.sql").read_text())
        except BaseException:
            _drop(db, self.roles)
            raise
        return world

    def close(self) -> None:
        for world in self.built.values():
            _drop(world.db, self.roles)


def _drop(db: ContractDB, roles: tuple[str, str]) -> None:
    """Drop the world's roles and then the database."""
    drop_roles(db, roles)
    drop_contract_db(db)


@pytest.fixture(scope="session")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worlds]:
    registry = Worlds(tmp_path_factory.mktemp("worlds"))
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture(scope="module", params=DIALECTS)
def world(request: pytest.FixtureRequest, worlds: Worlds) -> World:
    """The scenario world of each dialect in turn."""
    return worlds.get(request.param)


@pytest.fixture(scope="module", params=SERVER_DIALECTS)
def server_world(request: pytest.FixtureRequest, worlds: Worlds) -> World:
    """The scenario world of each dialect that has database roles (PostgreSQL, MariaDB)."""
    return worlds.get(request.param)
