"""Turn a database URL into Django's DATABASES entry.

Accepted forms::

    postgresql://user@host:5432/name        (also postgres://, pgsql://)
    mysql://user@host:3306/name             (also mariadb://)
    sqlite:///relative/or/absolute/path.sqlite3

Passwords belong in the environment or in a PGPASSFILE / option file, never in argv; a URL
may carry one when it comes from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

ENGINES = {
    "postgresql": "django.db.backends.postgresql",
    "postgres": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
    "mariadb": "django.db.backends.mysql",
    "sqlite": "django.db.backends.sqlite3",
}

DIALECT_OF_ENGINE = {
    "django.db.backends.postgresql": "pgsql",
    "django.db.backends.mysql": "mysql",
    "django.db.backends.sqlite3": "sqlite",
}


@dataclass(frozen=True)
class DatabaseURL:
    """The parts of a database URL; `hosts` keeps libpq's comma-separated host list."""

    dialect: str
    hosts: tuple[tuple[str, int | None], ...]
    name: str
    user: str
    password: str
    options: dict[str, str]

    @property
    def host(self) -> str:
        return self.hosts[0][0] if self.hosts else ""

    @property
    def port(self) -> int | None:
        return self.hosts[0][1] if self.hosts else None


def parse(url: str) -> DatabaseURL:
    """Split a database URL; raise ValueError with a readable message when it is not one."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ENGINES:
        raise ValueError(
            f"unsupported database URL scheme {parts.scheme!r}: use postgresql://, mysql:// or sqlite://"
        )
    dialect = DIALECT_OF_ENGINE[ENGINES[scheme]]
    if dialect == "sqlite":
        path = unquote(parts.path)
        # sqlite:///var/x.sqlite3 is relative, sqlite:////srv/x.sqlite3 absolute.
        name = path[1:]
        if not name:
            raise ValueError(
                "a sqlite:// URL needs a file path, e.g. sqlite:///var/mailadmin.sqlite3"
            )
        return DatabaseURL("sqlite", (), name, "", "", {})
    netloc = parts.netloc
    userinfo, _, hostlist = netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    hosts: list[tuple[str, int | None]] = []
    for item in filter(None, hostlist.split(",")):
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port_text = rest.lstrip(":")
        else:
            host, _, port_text = item.partition(":")
        try:
            port = int(port_text) if port_text else None
        except ValueError:
            raise ValueError(f"bad port {port_text!r} in database URL") from None
        hosts.append((unquote(host), port))
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ValueError("the database URL names no database (…/DBNAME)")
    return DatabaseURL(
        dialect, tuple(hosts), name, unquote(user), unquote(password), dict(parse_qsl(parts.query))
    )


def to_django(url: str, base_dir: Any) -> dict[str, Any]:
    """A DATABASES entry for `url`; relative SQLite paths are taken from `base_dir`."""
    db = parse(url)
    if db.dialect == "sqlite":
        from pathlib import Path

        path = Path(db.name)
        if not path.is_absolute():
            path = Path(base_dir) / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            # IMMEDIATE: a writer takes the lock when its transaction starts, so two requests
            # queue instead of failing halfway. A rollback journal, not WAL: Postfix and
            # Dovecot read these files with read access only (a WAL reader must write the
            # -shm file), and a commit spans the Postfix file atomically
            # (mailadmin/contract/sqlite_files.py). The PRAGMA also turns an older WAL
            # file back.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=DELETE;",
            },
            # A file, not :memory:, so that tests see the locking the panel lives with.
            "TEST": {"NAME": str(path.with_name(path.stem + "-test.sqlite3"))},
        }
    engine = {"pgsql": "django.db.backends.postgresql", "mysql": "django.db.backends.mysql"}[
        db.dialect
    ]
    entry: dict[str, Any] = {
        "ENGINE": engine,
        "NAME": db.name,
        "USER": db.user,
        "PASSWORD": db.password,
        "HOST": db.host,
        "PORT": str(db.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": dict(db.options),
    }
    if db.dialect == "pgsql":
        # The panel's queries are short; PostgreSQL's JIT would compile a count over many
        # domains for a second and more before running it in milliseconds.
        entry["OPTIONS"].setdefault("options", "-c jit=off")
    if db.dialect == "mysql":
        entry["OPTIONS"].setdefault("charset", "utf8mb4")
        # Strict mode: MariaDB must refuse, not truncate, what does not fit.
        entry["OPTIONS"].setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
        entry["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_bin"}
    return entry
