"""The exported Postfix queries as the trace runs them: through Django's connection, with the
key bound as query parameters, each key asked once."""

from __future__ import annotations

import re

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

from mailadmin.contract.dialects import dialect_of
from mailadmin.contract.queries import MAIN_CF_MAPS, POSTFIX_QUERIES, exported_query
from mailadmin.contract.trace_types import Lookup

_PLACEHOLDER = re.compile(r"'%([sud])'")
_UNQUOTED = re.compile(r"(?<!%)%[sud]")


class Lookups:
    """Runs the exported queries through Django's connection; each key is asked once."""

    def __init__(self, connection: BaseDatabaseWrapper = default_connection) -> None:
        self._connection = connection
        self._dialect = dialect_of(connection)
        self._cache: dict[tuple[str, str], Lookup] = {}

    def ask(self, table: str, key: str) -> Lookup:
        cache_key = (table, key)
        if cache_key not in self._cache:
            self._cache[cache_key] = self._run(table, key)
        return self._cache[cache_key]

    def ask_all(self, parameter: str, key: str) -> list[Lookup]:
        """Every query the parameter's tables (or the one table) send for `key`, up to the
        first answer."""
        asked = []
        for table in MAIN_CF_MAPS.get(parameter, (parameter,)):
            lookup = self.ask(table, key)
            asked.append(lookup)
            if lookup.found:
                break
        return asked

    def _run(self, table: str, key: str) -> Lookup:
        template = trace_query(self._dialect, table)
        sql, params, suppressed = expand_query(template, key)
        if suppressed:
            return Lookup(table, key, template, suppressed=True)
        with self._connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = tuple(str(row[0]) for row in cursor.fetchall() if row[0] is not None)
        return Lookup(table, key, template, rows)


def trace_query(dialect: str, table: str) -> str:
    """The query the trace sends for a table: the exported .cf file's on MariaDB and SQLite,
    where the view query would read every domain row to find the key's domain
    (queries.u_label_guarded). On PostgreSQL the view query, which the lookup function runs:
    the function's call decodes the LATIN1 connection of Postfix 3.7's client, and Django's
    connection is UTF-8, so a non-ASCII key would not survive it."""
    if dialect == "pgsql":
        return POSTFIX_QUERIES[table]
    return exported_query(dialect, table)


def expand_query(template: str, key: str) -> tuple[str, list[str], bool]:
    """The query Postfix would send for `key`, as SQL with parameters, and whether Postfix
    suppresses it (%u with an empty local part, %d for a key without a domain).

    Postfix quotes the values itself; here they become query parameters, so the database sees
    the same comparison without the text ever being pasted into SQL.
    """
    if _UNQUOTED.search(_PLACEHOLDER.sub("", template)):
        raise ValueError(f"unquoted %s, %u or %d in {template!r}")
    local, at, domain = key.rpartition("@")
    if not at:
        local, domain = key, ""
    values = {"s": key, "u": local, "d": domain}
    used = set(_PLACEHOLDER.findall(template))
    if ("u" in used and not local) or ("d" in used and not domain):
        return "", [], True
    params: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        params.append(values[match.group(1)])
        return "%s"

    # A literal "%%" in a Postfix query is also how Django's cursor writes a literal "%".
    return _PLACEHOLDER.sub(placeholder, template), params, False
