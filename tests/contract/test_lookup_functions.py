"""PostgreSQL's exported tables call lookup functions; they must answer exactly as the views.

Postfix sends every lookup as a new literal query, so on PostgreSQL each exported table calls
a PL/pgSQL function (queries.LOOKUP_FUNCTIONS) whose body is the table's view query, or for
the multi-branch tables ordered probes of the tables behind the view (probes.py), and whose
plans PostgreSQL keeps per connection. Here the real postmap asks both forms, as the Postfix
role, for every address, catch-all key and domain the views know, plus misses; and the
migration that creates the functions is run forwards and backwards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mailadmin.contract.queries import (
    LOOKUP_FUNCTIONS,
    PGSQL_UTF8_KEY,
    POSTFIX_QUERIES,
    u_label_guarded,
)
from tests.contract.conftest import World, Worlds, postmap_query_stdin
from tests.support import create_contract_db, drop_contract_db

pytestmark = pytest.mark.tools


@contextmanager
def owner_cursor(world: World) -> Iterator[Any]:
    """A cursor of the database's owner (the panel's own URL), which reads every view."""
    import psycopg

    with psycopg.connect(world.db.url, autocommit=True) as conn:
        yield conn.cursor()


def _query_line(world: World, table: str) -> str:
    text = (world.out / "postfix" / f"{table}.cf").read_text()
    return next(line for line in text.splitlines() if line.startswith("query = "))


def test_pgsql_tables_call_their_lookup_function(worlds: Worlds) -> None:
    world = worlds.get("pgsql")
    for function in LOOKUP_FUNCTIONS:
        assert _query_line(world, function.table) == f"query = {function.call}"
        assert function.name == f"mailadmin_postfix_{function.table}_lookup"
    catchall = _query_line(world, "virtual_alias_catchall_maps")
    # The raw key decides: "@domain". Each key is read back from the LATIN1 that Postfix 3.7's
    # pgsql client declares into the UTF-8 it sends.
    utf8 = "convert_from(convert_to('%{}', 'LATIN1'), 'UTF8')"
    assert catchall.endswith(f"_lookup(lower({utf8.format('d')}), {utf8.format('s')})")


@pytest.mark.parametrize("dialect", ["mysql", "sqlite"])
def test_other_dialects_query_the_views(worlds: Worlds, dialect: str) -> None:
    world = worlds.get(dialect)
    for table, query in POSTFIX_QUERIES.items():
        assert _query_line(world, table) == f"query = {u_label_guarded(dialect, query)}"
        assert query.split(" WHERE ")[0] in _query_line(world, table)


def _keys(world: World) -> list[str]:
    """Every key the views answer, each domain's catch-all key and bare domain, the same by
    U-label (as Postfix sends an SMTPUTF8 address), odd-case variants and misses."""
    with owner_cursor(world) as cursor:
        addresses: set[tuple[str, str]] = set()
        for view in (
            "mailadmin_postfix_alias",
            "mailadmin_postfix_mailbox",
            "mailadmin_postfix_sender_login",
            "mailadmin_postfix_recipient_access",
            "mailadmin_postfix_relay_recipient",
        ):
            cursor.execute(f"SELECT local_part, domain FROM {view}")  # noqa: S608
            addresses |= set(cursor.fetchall())
        cursor.execute("SELECT domain, unicode_domain FROM mailadmin_postfix_domain")
        u_labels = dict(cursor.fetchall())
    domains = set(u_labels) | {u for u in u_labels.values() if u}
    keys = {f"{local}@{domain}" for local, domain in addresses}
    keys |= {f"{local}@{u_labels[domain]}" for local, domain in addresses if u_labels.get(domain)}
    keys |= domains | {f"@{d}" for d in domains} | {f"nobody@{d}" for d in domains}
    keys |= {key.upper() for key in list(keys)[:20]}
    keys |= {"com", "@", "user@", "unknown@unknown.example", "o'brien@example.com"}
    return sorted(keys)


def assert_functions_answer_as_views(world: World, folder: Path, *, quiet: tuple[str, ...]) -> None:
    """Every table's function and its view query, asked every key of `world` by postmap.

    `quiet` names the tables that may answer no key in that world; every other table must
    answer some, so that the comparison has teeth.
    """
    keys = _keys(world)
    assert len(keys) > 50
    for table, view_query in POSTFIX_QUERIES.items():
        exported = (world.out / "postfix" / f"{table}.cf").read_text().splitlines()
        connection = [line for line in exported if not line.startswith("query =")]
        view_table = folder / f"{table}.cf"
        # The view query reads the key back from LATIN1 as the function's call does.
        utf8_query = re.sub(r"'%([sud])'", PGSQL_UTF8_KEY, view_query)
        view_table.write_text("\n".join([*connection, f"query = {utf8_query}", ""]))
        for fold in (True, False):
            by_function = postmap_query_stdin(world.table(table), keys, fold=fold)
            by_view = postmap_query_stdin(f"pgsql:{view_table}", keys, fold=fold)

            def answers(lines: list[str]) -> dict[str, set[str]]:
                return {k: set(v.split(",")) for k, v in (ln.split("\t", 1) for ln in lines)}

            assert answers(by_function) == answers(by_view), (table, fold)
            if table not in quiet:
                assert by_view, table


def test_functions_answer_every_key_as_the_views(worlds: Worlds, tmp_path: Path) -> None:
    # The scenario has no disabled mailbox or domain and no relay recipients:
    # test_domain_states.py compares those tables on a world that has them.
    quiet = ("recipient_access", "relay_recipient_maps", "relay_domains", "transport_maps")
    assert_functions_answer_as_views(worlds.get("pgsql"), tmp_path, quiet=quiet)


def test_catchall_function_answers_only_the_catchall_key(worlds: Worlds) -> None:
    world = worlds.get("pgsql")
    with owner_cursor(world) as cursor:
        cursor.execute("SELECT domain FROM mailadmin_postfix_alias WHERE local_part = ''")
        domain = cursor.fetchone()[0]
    assert world.lookup("virtual_alias_catchall_maps", f"@{domain}")
    assert world.lookup("virtual_alias_catchall_maps", f"someone@{domain}") is None


FUNCTIONS_STATE = (
    "SELECT p.proname, p.prosecdef, p.provolatile, p.proconfig,"
    "       has_function_privilege('public', p.oid, 'EXECUTE')"
    "  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
    " WHERE n.nspname = 'public' AND p.proname LIKE 'mailadmin\\_%'"
)


def test_migration_creates_and_drops_the_functions(tmp_path: Path) -> None:
    import psycopg

    db = create_contract_db("pgsql", tmp_path)
    try:

        def state() -> dict[str, tuple[object, ...]]:
            with psycopg.connect(db.url, autocommit=True) as conn:
                return {row[0]: row[1:] for row in conn.execute(FUNCTIONS_STATE).fetchall()}

        created = state()
        assert set(created) == {function.name for function in LOOKUP_FUNCTIONS}
        for name, (definer, volatility, config, public_execute) in created.items():
            assert definer and volatility == "s", name
            assert config == ["search_path=public"], name
            assert not public_execute, name
        db.manage("migrate", "contract", "0002", "--no-input")
        assert state() == {}
        db.manage("migrate", "--no-input")
        assert state() == created
    finally:
        drop_contract_db(db)


KEYED_VIEWS = [
    "mailadmin_postfix_mailbox",
    "mailadmin_postfix_alias",
    "mailadmin_postfix_sender_login",
    "mailadmin_postfix_recipient_access",
]


def _scans(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


@pytest.mark.parametrize("view", KEYED_VIEWS)
def test_generic_plans_find_the_key_through_an_index(worlds: Worlds, view: str) -> None:
    """The lookup functions run each view's query with a generic plan (L1). Any index on the
    mailbox or alias tables can be chosen for it, so every one of them that the plan reads must
    take the local part as an index condition: a partial index on (domain_id) WHERE NOT active,
    made for the dashboard's counts, once served check_recipient_access by reading all of a
    domain's inactive mailboxes per lookup (1,000 rows, 4 ms, in the 100,000-mailbox domain)."""
    world = worlds.get("pgsql")
    with owner_cursor(world) as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by now
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute("SET enable_seqscan = off")  # the world is small; lookups are not
        cursor.execute(
            f"PREPARE keyed(text, text) AS SELECT * FROM {view}"  # noqa: S608 - a fixed name
            " WHERE domain = $1 AND local_part = $2"
        )
        cursor.execute("EXPLAIN (FORMAT JSON) EXECUTE keyed('example.com', 'carol')")
        plan = cursor.fetchone()[0][0]["Plan"]
    keyed_tables = {"mailboxes_mailbox", "mailboxes_alias"}
    scans = [node for node in _scans(plan) if node.get("Relation Name") in keyed_tables]
    assert scans
    for node in scans:
        assert "$2" not in node.get("Filter", ""), (view, node.get("Index Name"), node["Filter"])
    assert not USAGE_INDEXES & {node.get("Index Name") for node in _scans(plan)}


# The usage table's indexes for the panel's lists: a domain's bytes, the fullest mailboxes.
USAGE_INDEXES = {"quota_usage_by_domain", "quota_usage_by_permille"}
USAGE_KEYED_TABLES = {"mailadmin_quota_usage", "mailboxes_mailboxlogin"}


def test_generic_plans_on_the_usage_table_take_its_keys(worlds: Worlds) -> None:
    """The statements that find a usage row by its key run with cached, generic plans too:
    the triggers (PL/pgSQL) that resolve Dovecot's writes, follow a changed quota and remove
    the row of a deleted mailbox. The panel's indexes on the table must never be chosen for
    them: each must reach its row through the key's unique index. auto_explain logs the
    plans of these nested statements as they run."""
    world = worlds.get("pgsql")
    plans: list[dict[str, Any]] = []
    with owner_cursor(world) as cursor:
        cursor.connection.add_notice_handler(
            lambda notice: (
                plans.append(json.loads(notice.message_primary.partition("plan:")[2]))
                if "plan:" in (notice.message_primary or "")
                else None
            )
        )
        cursor.execute("BEGIN")
        try:
            cursor.execute("SELECT mailbox_id, username FROM mailboxes_mailboxlogin ORDER BY 1")
            (first, first_user), *others, (last, _last_user) = cursor.fetchall()
            cursor.execute("LOAD 'auto_explain'")
            for setting in (
                "auto_explain.log_min_duration = 0",
                "auto_explain.log_nested_statements = on",
                "auto_explain.log_format = json",
                "client_min_messages = log",
                "plan_cache_mode = force_generic_plan",
                "enable_seqscan = off",  # the world is small; Dovecot's are not
            ):
                cursor.execute(f"SET LOCAL {setting}")
            # Dovecot has reported the other mailboxes; then a new report, a changed one (the
            # trigger on UPDATE), a quota change, a mailbox deleted.
            for _mailbox, username in others:
                cursor.execute(
                    "INSERT INTO mailadmin_quota_usage (username, bytes, messages)"
                    " VALUES (%s, 1000, 1)",
                    [username],
                )
            cursor.execute("ANALYZE mailadmin_quota_usage")
            for used in (5, 6):
                cursor.execute(
                    "INSERT INTO mailadmin_quota_usage (username, bytes, messages)"
                    " VALUES (%s, %s, 1) ON CONFLICT (username) DO UPDATE SET"
                    " bytes = excluded.bytes, messages = excluded.messages",
                    [first_user, used],
                )
            cursor.execute("UPDATE mailboxes_mailbox SET quota = quota + 1 WHERE id = %s", [first])
            cursor.execute("DELETE FROM mailboxes_mailbox WHERE id = %s", [last])
            # The first column of every index of the two tables.
            cursor.execute(
                "SELECT c.relname, a.attname FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                " WHERE i.indrelid::regclass::text = ANY(%s)",
                [sorted(USAGE_KEYED_TABLES)],
            )
            leading = dict(cursor.fetchall())
        finally:
            cursor.execute("ROLLBACK")
    nested = [
        plan
        for plan in plans
        if any(node.get("Relation Name") in USAGE_KEYED_TABLES for node in _scans(plan["Plan"]))
    ]
    # The resolving SELECT of both triggers (a generic plan: its key is a parameter), the quota
    # trigger's UPDATE and the DELETE that follows a deleted mailbox.
    resolving = [p for p in nested if "WHERE l.username = NEW.username" in p["Query Text"]]
    assert resolving and all("$" in json.dumps(p["Plan"]) for p in resolving)
    writes = {
        (plan["Plan"].get("Operation"), plan["Plan"].get("Relation Name"))
        for plan in nested
        if plan["Query Text"].lstrip().startswith(("UPDATE", "DELETE"))
    }
    assert {("Update", "mailadmin_quota_usage"), ("Delete", "mailadmin_quota_usage")} <= writes
    for plan in nested:
        for node in _scans(plan["Plan"]):
            reads = node["Node Type"].endswith("Scan")
            if not reads or node.get("Relation Name") not in USAGE_KEYED_TABLES:
                continue
            where = (plan["Query Text"], node.get("Index Name"))
            assert node["Node Type"] in ("Index Scan", "Index Only Scan"), where
            assert node["Index Name"] not in USAGE_INDEXES, where
            # The key is the index's leading column, a parameter or the joined row's value:
            # a probe, not a walk through the index.
            key = rf"\b{leading[node['Index Name']]}\)?(::\w+)? = \(?(\$\d+|\w+\.\w+)"
            assert re.match(rf"^\(+{key}", node.get("Index Cond", "")), (where, node)
            assert "$" not in node.get("Filter", ""), where


def _as_postfix_expands(query: str, key: str) -> str:
    """The exported query with %s, %u and %d replaced as Postfix does: the key's parts, with
    quotes doubled (the pgsql client's escaping of a plain key)."""
    local, _, domain = key.rpartition("@")
    parts = {"s": key, "u": local, "d": domain}
    return re.sub(r"%([sud])", lambda m: parts[m.group(1)].replace("'", "''"), query)


CONTRACT_TABLES = (
    "domains_domain",
    "domains_aliasdomain",
    "mailboxes_mailbox",
    "mailboxes_alias",
    "mailboxes_aliasdestination",
)


@pytest.mark.parametrize("table", sorted(POSTFIX_QUERIES))
def test_the_exported_queries_reach_every_table_through_an_index(
    worlds: Worlds, table: str
) -> None:
    """The exported text, expanded as Postfix expands it, reads no table in full. Its keys
    are expressions (the LATIN1 round trip below), whose collation PostgreSQL derives from
    their arguments: convert_from(…, 'UTF8') is of collation "C" (from the type name), a
    comparison in "C" cannot use the indexes built in the database's collation, and every
    lookup read whole tables (5 to 19 ms a lookup at a million mailboxes, L5 in
    docs/benchmarks.md) while a test that prepared the view query with plain parameters saw
    index scans."""
    world = worlds.get("pgsql")
    query = _query_line(world, table).removeprefix("query = ")
    with owner_cursor(world) as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL enable_seqscan = off")  # the world is small; lookups are not
        for key in ("carol@example.com", "nobody@example.com", "@example.com", "example.com"):
            cursor.execute(_as_postfix_expands(query, key))
            cursor.fetchall()
        cursor.execute(
            "SELECT relname, seq_scan FROM pg_stat_xact_user_tables"
            " WHERE relname = ANY(%s) AND seq_scan > 0",
            (list(CONTRACT_TABLES),),
        )
        full_reads = dict(cursor.fetchall())
        cursor.execute("ROLLBACK")
    assert full_reads == {}, (table, query)
