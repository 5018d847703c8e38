"""The lookups Postfix makes, as queries over the contract's views in every dialect, and the
PostgreSQL lookup functions that wrap them (one plan cached per proxymap connection).

Each query filters on (domain, local_part) or domain, so that it is one indexed lookup, and
applies lower() to the key, so a key in odd case finds its row in every dialect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .probes import ORDERED_BODIES


# A domain key, mapped to the stored A-label: Postfix sends an SMTPUTF8 address's domain as
# its U-label, folded (BÜCHER.example -> bücher.example), and each view keeps the U-label of
# every IDN domain next to the A-label (mailadmin_postfix_domain.unicode_domain). One probe of
# that column's unique index, then the lookup itself on the A-label's index; an A-label or
# ASCII key finds no U-label and is used as it is.
def domain_key(expansion: str) -> str:
    return (
        "COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u"
        f" WHERE u.unicode_domain = {expansion}), {expansion})"
    )


DOMAIN_KEY = domain_key("lower('%d')")  # the domain of a user@domain key
DOMAIN_NAME_KEY = domain_key("lower('%s')")  # a bare domain key

# Postfix substitutes %s (whole key), %u (local part) and %d (domain) and quotes them itself.
# A query using %u or %d is skipped for a key without that part, which is why the catch-all
# (key "@domain", empty %u) has a table of its own.
#
# The view form of every lookup, in every dialect: what MariaDB and SQLite are asked, the body
# of PostgreSQL's lookup functions (below), and the template of the trace engine (trace.py).
POSTFIX_QUERIES: dict[str, str] = {
    # A disabled domain is still answered: it stays ours, and recipient_access refuses it.
    "virtual_mailbox_domains": (
        "SELECT domain FROM mailadmin_postfix_domain"
        f" WHERE domain = {DOMAIN_NAME_KEY} AND kind = 'hosted'"
    ),
    "virtual_alias_domains": (
        "SELECT domain FROM mailadmin_postfix_domain"
        f" WHERE domain = {DOMAIN_NAME_KEY} AND kind = 'alias'"
    ),
    "relay_domains": (
        "SELECT domain FROM mailadmin_postfix_domain"
        f" WHERE domain = {DOMAIN_NAME_KEY} AND kind IN ('relay', 'backup')"
    ),
    "transport_maps": (
        "SELECT transport FROM mailadmin_postfix_domain"
        f" WHERE domain = {DOMAIN_NAME_KEY} AND transport <> ''"
    ),
    "virtual_mailbox_maps": (
        "SELECT maildir FROM mailadmin_postfix_mailbox"
        f" WHERE domain = {DOMAIN_KEY} AND local_part = lower('%u')"
    ),
    "virtual_uid_maps": (
        "SELECT uid FROM mailadmin_postfix_mailbox"
        f" WHERE domain = {DOMAIN_KEY} AND local_part = lower('%u')"
    ),
    "virtual_gid_maps": (
        "SELECT gid FROM mailadmin_postfix_mailbox"
        f" WHERE domain = {DOMAIN_KEY} AND local_part = lower('%u')"
    ),
    "virtual_alias_maps": (
        "SELECT destination FROM mailadmin_postfix_alias"
        f" WHERE domain = {DOMAIN_KEY} AND local_part = lower('%u')"
    ),
    # Only the key "@domain" may reach a catch-all row; "user@domain" must not.
    "virtual_alias_catchall_maps": (
        "SELECT destination FROM mailadmin_postfix_alias"
        f" WHERE domain = {DOMAIN_KEY} AND local_part = '' AND substr('%s', 1, 1) = '@'"
    ),
    "smtpd_sender_login_maps": (
        "SELECT login FROM mailadmin_postfix_sender_login"
        f" WHERE domain = {DOMAIN_KEY} AND local_part = lower('%u')"
    ),
    # check_recipient_access also asks for the bare domain and "user@"; %d and %u keep those
    # keys from costing a query. The row with an empty local part refuses every address of a
    # disabled domain, at the first key (user@domain).
    "recipient_access": (
        "SELECT action FROM mailadmin_postfix_recipient_access"
        f" WHERE domain = {DOMAIN_KEY} AND local_part IN (lower('%u'), '')"
    ),
    # Relay and backup-MX domains: a listed recipient, or any one (empty local part) where the
    # domain accepts every recipient. Postfix's next key, "@domain", has no %u: not sent.
    "relay_recipient_maps": (
        "SELECT domain FROM mailadmin_postfix_relay_recipient"
        f" WHERE domain = {DOMAIN_KEY} AND local_part IN (lower('%u'), '')"
    ),
}

# Postfix's expansions in the view queries -> the lookup function's parameters, in this order
# (lower('%s') before the bare '%s' it contains).
_FUNCTION_PARAMETERS = (
    ("lower('%d')", "p_domain"),
    ("lower('%u')", "p_local"),
    ("lower('%s')", "p_key"),
    ("'%s'", "p_raw_key"),
)


# The key as PostgreSQL should read it (LookupFunction.call): a regular expression
# replacement for '%s', '%u' or '%d'.
PGSQL_UTF8_KEY = r"convert_from(convert_to('%\1', 'LATIN1'), 'UTF8')"


@dataclass(frozen=True)
class LookupFunction:
    """PostgreSQL's form of one lookup table: a PL/pgSQL function that answers as its view query.

    Postfix sends every lookup as a new literal query, so PostgreSQL would plan the
    multi-branch views at every lookup (planning costs several times the execution:
    docs/benchmarks.md, L1). PL/pgSQL prepares its statements once per connection and reuses
    the plans, and proxymap keeps its connections, so a lookup pays only for planning a
    function call. The function runs as its owner (SECURITY DEFINER) with a pinned
    search_path; it reads the tables behind one Postfix view in ordered probes (probes.py;
    a table without one would read its view) with its arguments as values, never as SQL, and
    returns one column, so EXECUTE opens no path to another view or table.
    """

    table: str
    view_query: str

    @property
    def name(self) -> str:
        return f"mailadmin_postfix_{self.table}_lookup"

    @property
    def _arguments(self) -> list[tuple[str, str]]:
        used, query = [], self.view_query
        for expansion, parameter in _FUNCTION_PARAMETERS:
            if expansion in query:
                query = query.replace(expansion, "")
                used.append((expansion, parameter))
        return used

    @property
    def signature(self) -> str:
        """name(text, ...), as GRANT, REVOKE and DROP name the function."""
        return f"{self.name}({', '.join('text' for _ in self._arguments)})"

    @property
    def body(self) -> str:
        # Each parameter takes the collation of its argument, and the LATIN1 round trip of
        # the call (below) is of collation "C": compared in "C", a key cannot use the views'
        # indexes, built in the database's collation, and every lookup reads whole tables
        # (L5 in docs/benchmarks.md). The body names the collation of the columns, so any
        # call finds its row through the index.
        body = self.view_query
        for expansion, parameter in self._arguments:
            body = body.replace(expansion, f'({parameter} COLLATE "default")')
        # uid and gid are integers; every function returns text, as Postfix reads it.
        column = body.split()[1]
        return body.replace(f"SELECT {column} ", f"SELECT {column}::text ", 1)

    @property
    def call(self) -> str:
        """The query of the exported .cf file: the view query's expansions, as arguments.

        Postfix 3.7's pgsql client declares its connection LATIN1 (only 3.8 made the encoding
        a setting), so the UTF-8 bytes of an SMTPUTF8 key reach PostgreSQL one character a
        byte: "bücher" arrives as "bÃ¼cher". Turning the text back into those bytes and
        reading them as UTF-8 restores the key before lower() or any comparison sees it; an
        ASCII key is unchanged.
        """
        arguments = ", ".join(
            re.sub(r"'%([sud])'", PGSQL_UTF8_KEY, expansion) for expansion, _ in self._arguments
        )
        return f"SELECT * FROM {self.name}({arguments})"

    @property
    def source(self) -> str:
        """The PL/pgSQL source: the view query, or the table's ordered probes (probes.py)."""
        return ORDERED_BODIES.get(self.table, f" BEGIN RETURN QUERY {self.body}; END ")

    def create_sql(self) -> list[str]:
        parameters = ", ".join(f"{parameter} text" for _, parameter in self._arguments)
        return [
            f"CREATE OR REPLACE FUNCTION {self.name}({parameters}) RETURNS SETOF text"
            " LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public"
            f" AS $${self.source}$$",
            # Functions are executable by PUBLIC by default; only roles.sql grants these.
            f"REVOKE ALL ON FUNCTION {self.signature} FROM PUBLIC",
        ]

    def drop_sql(self) -> str:
        return f"DROP FUNCTION IF EXISTS {self.signature}"


LOOKUP_FUNCTIONS: tuple[LookupFunction, ...] = tuple(
    LookupFunction(table, query) for table, query in POSTFIX_QUERIES.items()
)


def lookup_functions_create_sql() -> list[str]:
    """PostgreSQL only: create (or replace) every lookup function, executable by no one yet."""
    return [statement for function in LOOKUP_FUNCTIONS for statement in function.create_sql()]


def lookup_functions_drop_sql() -> list[str]:
    return [function.drop_sql() for function in LOOKUP_FUNCTIONS]


# True for a key with a non-ASCII character: it has more bytes than characters in UTF-8,
# SQLite's text and the character set of MariaDB's connection (utf8mb4, which the U-label
# comparison itself needs).
_NON_ASCII = {
    "mysql": "CHAR_LENGTH({key}) <> LENGTH({key})",
    "sqlite": "length(CAST({key} AS BLOB)) <> length({key})",
}


def u_label_guarded(dialect: str, query: str) -> str:
    """MariaDB's and SQLite's form of a view query: the key's domain as a constant, and the
    U-label mapping only for a non-ASCII key of a domain that has one.

    Neither server pushes a condition holding a subquery (the U-label mapping of DOMAIN_KEY)
    into a view's UNION ALL branches, so each branch read every domain row to find the key's
    domain: a lookup cost in proportion to the number of domains (an alias lookup 8.8 ms on
    MariaDB and 14 ms on SQLite at 1,000 domains, L9 in docs/benchmarks.md). A constant is
    pushed into every branch and answered by the name's index. Names are A-labels, so the
    constant finds nothing for a U-label key, and the second query, whose constant condition
    is false for an ASCII key or a U-label no domain has (both servers skip it without
    reading a row), maps it as before.
    """
    for domain_key, expansion in ((DOMAIN_KEY, "lower('%d')"), (DOMAIN_NAME_KEY, "lower('%s')")):
        if domain_key in query:
            u_label = f"FROM mailadmin_postfix_domain u WHERE u.unicode_domain = {expansion}"
            mapped = f"(SELECT u.domain {u_label})"
            non_ascii = _NON_ASCII[dialect].format(key=expansion)
            guard = f"{non_ascii} AND EXISTS (SELECT 1 {u_label}) AND "
            by_u_label = query.replace(domain_key, mapped).replace(" WHERE ", f" WHERE {guard}", 1)
            return f"{query.replace(domain_key, expansion)} UNION ALL {by_u_label}"
    return query


def exported_query(dialect: str, table: str) -> str:
    """The query of the exported .cf file: the lookup function on PostgreSQL, else the view
    query with the domain key as a constant (u_label_guarded)."""
    if dialect == "pgsql":
        return next(f.call for f in LOOKUP_FUNCTIONS if f.table == table)
    return u_label_guarded(dialect, POSTFIX_QUERIES[table])


# main.cf parameter -> the lookup tables it names, in lookup order.
MAIN_CF_MAPS: dict[str, tuple[str, ...]] = {
    "virtual_mailbox_domains": ("virtual_mailbox_domains",),
    "virtual_alias_domains": ("virtual_alias_domains",),
    "virtual_alias_maps": ("virtual_alias_maps", "virtual_alias_catchall_maps"),
    "virtual_mailbox_maps": ("virtual_mailbox_maps",),
    "virtual_uid_maps": ("virtual_uid_maps",),
    "virtual_gid_maps": ("virtual_gid_maps",),
    "relay_domains": ("relay_domains",),
    "transport_maps": ("transport_maps",),
    "smtpd_sender_login_maps": ("smtpd_sender_login_maps",),
    "relay_recipient_maps": ("relay_recipient_maps",),
}
