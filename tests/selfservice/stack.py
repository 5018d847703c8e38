"""The mail stack on pytest-django's own test database.

`export_test_database` runs `export_maps` for the database the test client writes to and
applies the exported roles.sql, so the real postmap and a private Dovecot (tests/dovecot_harness)
read what the web pages just wrote, through the read-only roles, as on a real server. Tests
that use it must commit their writes: `@pytest.mark.django_db(transaction=True)`.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from mailadmin.contract.dialects import dialect_of
from tests.contract.conftest import postmap_query
from tests.support import ContractDB, drop_roles


@dataclass
class ExportedDB:
    dialect: str
    out: Path

    def lookup(self, table: str, key: str) -> str | None:
        """`postmap -q KEY DIALECT:table.cf` on the exported table."""
        return postmap_query(f"{self.dialect}:{self.out / 'postfix' / table}.cf", key)

    @property
    def dovecot_include(self) -> Path:
        return self.out / "dovecot" / "auth-mailadmin.conf.ext"


@contextmanager
def export_test_database(work: Path) -> Iterator[ExportedDB]:
    """Export the test database's maps into `work`; the roles are dropped afterwards."""
    dialect = dialect_of(connection)
    config = connection.settings_dict
    if dialect == "sqlite":
        pytest.skip("Postfix and Dovecot cannot read an in-memory SQLite test database")
    run = uuid.uuid4().hex[:8]
    roles = (f"mailadmin_test_postfix_{run}", f"mailadmin_test_dovecot_{run}")
    host, port, name = config["HOST"] or "127.0.0.1", config["PORT"], config["NAME"]
    scheme = "postgresql" if dialect == "pgsql" else "mysql"
    port_part = f":{port}" if port else ""
    db = ContractDB(dialect, name, f"{scheme}://{host}{port_part}/{name}", host, int(port or 0))
    out = work / "out"
    call_command(
        "export_maps",
        dialect=dialect,
        out=out,
        db_url=f"{scheme}://{host}{port_part}/{name}",
        postfix_dir=str(out / "postfix"),
        dovecot_dir=str(out / "dovecot"),
        postfix_role=roles[0],
        dovecot_role=roles[1],
        sasl_socket=str(work / "sasl-auth"),
        no_proxy=True,
        stdout=io.StringIO(),
    )
    try:
        db.execute_admin((out / "sql" / "roles.sql").read_text(encoding="utf-8"))
        yield ExportedDB(dialect, out)
    finally:
        drop_roles(db, roles)
