"""The panel's databases for bench.pfa_data: PostgreSQL's, MariaDB's and SQLite's, each
filled with the same PostfixAdmin data by ``manage.py import_postfixadmin`` (import_into);
MariaDB's and SQLite's exported with ``export_maps`` for their dialect (the ``mysql:``
tables as the exported read-only Postfix role, the ``sqlite:`` tables on the database file)
with a round-trip floor of each (``SELECT '%s'`` through the same client and connection
settings as the exported tables).

MariaDB runs the views' queries as the exported files send them; it has no lookup functions
(docs/mail-stack.md), so what this measures is the view design itself on that server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, BenchDB
from mailadmin import dburl
from mailadmin.contract.export import atomic_write

MYSQL_ADMIN_URL = os.environ.get("MAILADMIN_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")
DIALECTS = ("mysql", "sqlite")
# The client of each dialect's lookup tables, as main.cf names it.
CLIENT = {"pgsql": "pgsql", "mysql": "mysql", "sqlite": "sqlite"}


def contract_db(dialect: str, target: BenchDB) -> Any:
    """A new, empty database of `dialect` named after the PostgreSQL target (dropped first)."""
    from tests.support import ContractDB

    if dialect == "sqlite":
        path = target.out / "sqlite" / "mailadmin.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob("mailadmin.sqlite3*"):
            stale.unlink()
        return ContractDB("sqlite", str(path), f"sqlite:///{path}")
    if dialect != "mysql":
        raise ValueError(dialect)
    import MySQLdb

    admin = dburl.parse(MYSQL_ADMIN_URL)
    port = admin.port or 3306
    conn = MySQLdb.connect(host=admin.host, port=port, user=admin.user)
    try:
        cursor = conn.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{target.name}`")
        # As tests/support.py creates the suite's MariaDB databases.
        cursor.execute(f"CREATE DATABASE `{target.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    finally:
        conn.close()
    url = f"mysql://{admin.user}@{admin.host}:{port}/{target.name}"
    return ContractDB("mysql", target.name, url, admin.host, port)


def import_into(db: Any, source_url: str) -> float:
    """`db` migrated and filled by `manage.py import_postfixadmin --from SOURCE`; seconds."""
    db.manage("migrate", "--no-input", "-v", "0")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "import_postfixadmin", "--from", source_url],
        cwd=ROOT,
        env=db.env(),
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if result.returncode != 0:
        raise RuntimeError(f"import_postfixadmin ({db.dialect}): {result.stdout}\n{result.stderr}")
    return round(time.perf_counter() - started, 2)


def export(db: Any, out: Path, target: BenchDB) -> Path:
    """export_maps for `db` into `out` (and on MariaDB its roles.sql applied); the folder of
    the .cf files."""
    args = ["--dialect", db.dialect, "--out", str(out), "--db-url", db.url]
    args += ["--postfix-dir", str(out / "postfix"), "--no-proxy"]
    if db.dialect == "mysql":
        args += ["--postfix-role", f"{target.name}_pf", "--dovecot-role", f"{target.name}_dc"]
    db.manage("export_maps", *args)
    if db.dialect == "mysql":
        db.execute_admin((out / "sql" / "roles.sql").read_text())
    return out / "postfix"


def floor_table(postfix_dir: Path, out: Path) -> Path:
    """The exported mailbox table's connection with the query `SELECT '%s'`: the round trip
    of one lookup through that client, with no table read."""
    exported = (postfix_dir / "virtual_mailbox_maps.cf").read_text().splitlines()
    lines = [line for line in exported if not line.startswith("query =")]
    path = out / "floor.cf"
    atomic_write(path, "\n".join([*lines, "query = SELECT '%s'", ""]), 0o600)
    return path


def analyze(db: Any) -> float:
    """The planner statistics of every table, as VACUUM ANALYZE does on PostgreSQL; seconds."""
    started = time.perf_counter()
    if db.dialect == "sqlite":
        import sqlite3

        with sqlite3.connect(db.name) as conn:
            conn.execute("ANALYZE")
    else:
        import MySQLdb

        conn = MySQLdb.connect(host=db.host, port=db.port, user="root", db=db.name)
        try:
            cursor = conn.cursor()
            cursor.execute("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
            for table, _kind in cursor.fetchall():
                cursor.execute(f"ANALYZE TABLE `{table}`")
                cursor.fetchall()
        finally:
            conn.close()
    return round(time.perf_counter() - started, 2)


def drop(db: Any, target: BenchDB) -> None:
    """The database and, on MariaDB, the roles export() made."""
    from tests.support import drop_roles

    if db.dialect == "sqlite":
        for path in Path(db.name).parent.glob("mailadmin.sqlite3*"):
            path.unlink()
        return
    drop_roles(db, (f"{target.name}_pf", f"{target.name}_dc"))
    db.execute_admin(f"DROP DATABASE IF EXISTS `{db.name}`")
