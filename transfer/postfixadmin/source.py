"""Reading PostfixAdmin's tables as they are, from PostgreSQL or MySQL/MariaDB.

`SELECT *`, so that columns added or missing in its versions do not matter; a missing table
reads as empty. Values come back as each driver returns them: `as_text` and `as_flag` read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailadmin import dburl

TABLES = ("domain", "mailbox", "alias", "alias_domain", "admin", "domain_admins", "vacation")


class SourceError(Exception):
    pass


@dataclass
class PfaData:
    tables: dict[str, list[dict[str, Any]]]

    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.tables.get(table, [])


def as_flag(value: Any) -> bool:
    """A flag column: boolean (PostgreSQL), tinyint (MySQL) or text, as versions stored it."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        return value.strip().lower() in {"1", "t", "true", "y", "yes"}
    return bool(value)


def as_text(value: Any) -> str:
    """A text column; NULL reads as empty, bytes (MySQL binary collations) as UTF-8."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def read_source(url: str, password: str | None = None) -> PfaData:
    """Every row of PostfixAdmin's tables; a missing table reads as empty."""
    try:
        parts = dburl.parse(url)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    secret = password if password is not None else parts.password
    if parts.dialect == "pgsql":
        return _read_pgsql(parts, secret)
    if parts.dialect == "mysql":
        return _read_mysql(parts, secret)
    raise SourceError("PostfixAdmin runs on PostgreSQL or MySQL/MariaDB: use one of their URLs")


def _read_pgsql(parts: dburl.DatabaseURL, password: str) -> PfaData:
    import psycopg
    from psycopg.rows import dict_row

    kwargs: dict[str, Any] = {"dbname": parts.name, "user": parts.user or None}
    if parts.hosts:
        kwargs["host"] = ",".join(h for h, _p in parts.hosts)
        kwargs["port"] = ",".join(str(p or 5432) for _h, p in parts.hosts)
    if password:
        kwargs["password"] = password
    try:
        conn = psycopg.connect(**kwargs, row_factory=dict_row)
    except psycopg.Error as exc:
        raise SourceError(f"cannot connect to the PostfixAdmin database: {exc}") from None
    tables: dict[str, list[dict[str, Any]]] = {}
    with conn:
        present = {
            row["table_name"]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        }
        for table in TABLES:
            if table in present:
                tables[table] = list(conn.execute(f'SELECT * FROM "{table}"'))  # noqa: S608 - fixed names
    return PfaData(tables)


def _read_mysql(parts: dburl.DatabaseURL, password: str) -> PfaData:
    import MySQLdb
    import MySQLdb.cursors

    kwargs: dict[str, Any] = {
        "db": parts.name,
        "user": parts.user or "root",
        "charset": "utf8mb4",
        "cursorclass": MySQLdb.cursors.DictCursor,
        # Read the [client] group of the option files (~/.my.cnf may hold the password).
        "read_default_group": "client",
    }
    host = parts.host
    if host.startswith("/"):
        kwargs["unix_socket"] = host
    else:
        kwargs["host"] = host or "localhost"
        kwargs["port"] = parts.port or 3306
    if password:
        kwargs["passwd"] = password
    try:
        conn = MySQLdb.connect(**kwargs)
    except MySQLdb.Error as exc:
        raise SourceError(f"cannot connect to the PostfixAdmin database: {exc}") from None
    tables: dict[str, list[dict[str, Any]]] = {}
    try:
        cursor = conn.cursor()
        cursor.execute("SHOW TABLES")
        present = {as_text(next(iter(row.values()))) for row in cursor.fetchall()}
        for table in TABLES:
            if table in present:
                cursor.execute(f"SELECT * FROM `{table}`")  # noqa: S608 - fixed names
                tables[table] = list(cursor.fetchall())
    finally:
        conn.close()
    return PfaData(tables)
