"""Helpers for tests that use the real databases and the real mail tools.

A "contract database" is a fresh database of one dialect, migrated by `manage.py migrate` in a
subprocess, exactly as an operator would do it. Tests fill it through the CLI or the services
(run in a subprocess with DATABASE_URL pointing at it) and query it with the real postmap and
doveadm through the files `export_maps` writes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PGSQL_ADMIN_URL = os.environ.get(
    "MAILADMIN_TEST_PGSQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
MYSQL_ADMIN_URL = os.environ.get("MAILADMIN_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")


def require_tool(name: str) -> str:
    """Path of a program, or skip the test (a failure in CI, see conftest)."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


@dataclass
class ContractDB:
    dialect: str
    name: str
    url: str  # the panel's URL (owner / superuser)
    host: str = ""
    port: int | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["DATABASE_URL"] = self.url
        env["DJANGO_SETTINGS_MODULE"] = "mailadmin.settings"
        env.update(extra)
        return env

    def manage(
        self, *args: str, stdin: str | None = None, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run `manage.py ARGS` against this database; stdin feeds passwords."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(**env),
            cwd=ROOT,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        """Run Python with Django set up against this database (for the service layer)."""
        prelude = "import django; django.setup()\n"
        result = subprocess.run(
            [sys.executable, "-c", prelude + code],
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=ROOT,
            timeout=300,
        )
        if result.returncode != 0:
            raise AssertionError(f"python failed:\n{result.stdout}\n{result.stderr}")
        return result

    def execute_admin(self, sql: str) -> None:
        """Run SQL statements as the database superuser (e.g. the exported roles.sql)."""
        if self.dialect == "pgsql":
            import psycopg

            with psycopg.connect(_pg_conninfo(self.name), autocommit=True) as conn:
                conn.execute(sql)
        elif self.dialect == "mysql":
            import MySQLdb

            conn = MySQLdb.connect(
                host=self.host, port=self.port or 3306, user="root", db=self.name
            )
            try:
                cursor = conn.cursor()
                for statement in _split_sql(sql):
                    cursor.execute(statement)
                conn.commit()
            finally:
                conn.close()
        else:
            raise ValueError("SQLite has no roles")


def _split_sql(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";\n") if s.strip().rstrip(";")]


def _pg_conninfo(dbname: str) -> str:
    from mailadmin import dburl

    admin = dburl.parse(PGSQL_ADMIN_URL)
    return f"host={admin.host} port={admin.port or 5432} user={admin.user} dbname={dbname}"


def create_contract_db(dialect: str, tmp_path: Path, *, migrate: bool = True) -> ContractDB:
    """A new database of `dialect`, migrated unless migrate=False; skips when its server
    cannot be reached."""
    from mailadmin import dburl

    name = f"mailadmin_ct_{uuid.uuid4().hex[:10]}"
    if dialect == "sqlite":
        path = tmp_path / f"{name}.sqlite3"
        db = ContractDB("sqlite", str(path), f"sqlite:///{path}")
    elif dialect == "pgsql":
        admin = dburl.parse(PGSQL_ADMIN_URL)
        try:
            import psycopg

            with psycopg.connect(_pg_conninfo(admin.name), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except Exception as exc:
            pytest.skip(f"PostgreSQL is not reachable at {PGSQL_ADMIN_URL}: {exc}")
        port = admin.port or 5432
        db = ContractDB(
            "pgsql", name, f"postgresql://{admin.user}@{admin.host}:{port}/{name}", admin.host, port
        )
    elif dialect == "mysql":
        admin = dburl.parse(MYSQL_ADMIN_URL)
        try:
            import MySQLdb

            conn = MySQLdb.connect(host=admin.host, port=admin.port or 3306, user=admin.user)
            conn.cursor().execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )
            conn.close()
        except Exception as exc:
            pytest.skip(f"MariaDB is not reachable at {MYSQL_ADMIN_URL}: {exc}")
        port = admin.port or 3306
        db = ContractDB(
            "mysql", name, f"mysql://{admin.user}@{admin.host}:{port}/{name}", admin.host, port
        )
    else:
        raise ValueError(dialect)
    if migrate:
        db.manage("migrate", "--no-input", "-v", "0")
    return db


def drop_contract_db(db: ContractDB) -> None:
    if db.dialect == "pgsql":
        import psycopg

        from mailadmin import dburl

        admin = dburl.parse(PGSQL_ADMIN_URL)
        with psycopg.connect(_pg_conninfo(admin.name), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    elif db.dialect == "mysql":
        import MySQLdb

        conn = MySQLdb.connect(host=db.host, port=db.port or 3306, user="root")
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{db.name}`")
        conn.close()


def drop_roles(db: ContractDB, roles: tuple[str, ...]) -> None:
    """Drop the test's own database roles (their grants first); SQLite has none."""
    if db.dialect == "pgsql":
        # DROP OWNED revokes the role's grants in this database and on it; then it can go.
        db.execute_admin(
            "".join(
                "DO $$ BEGIN\n"  # noqa: S608 - the test's own role names
                f"  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN\n"
                f"    DROP OWNED BY {role};\n"
                f"    DROP ROLE {role};\n"
                "  END IF;\n"
                "END $$;\n"
                for role in roles
            )
        )
    elif db.dialect == "mysql":
        db.execute_admin("\n".join(f"DROP USER IF EXISTS '{role}'@'%';" for role in roles))


def fresh_settings(env: dict[str, str], names: list[str]) -> dict[str, object]:
    """The settings `names` as a new process reads them with exactly `env` as its
    environment (values JSON cannot hold, such as paths, as their str())."""
    code = (
        "import json; from mailadmin import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
