"""The benchmark scripts at a tiny size, so that they cannot rot.

bench.seed fills a fresh database on the test PostgreSQL server by bulk SQL (every row must
pass the tables' constraints, or the INSERT fails), then bench.lookups exports the maps, applies
roles.sql and runs the real postmap over mailadmin's tables, PostfixAdmin's layout and hash:
files. The answers must be the contract's: the seeded rows are valid mail-stack data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.conftest import postmap_query
from tests.support import ROOT, ContractDB, drop_contract_db, drop_roles, require_tool

pytestmark = pytest.mark.tools

MAILBOXES = 200


def _bench(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MAILADMIN_BENCH_OUT=str(out))
    result = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ContractDB, Path]]:
    require_tool("postmap")
    from bench.common import BenchDB

    name = f"mailadmin_bench_t{uuid.uuid4().hex[:8]}"
    out = tmp_path_factory.mktemp("bench")
    bench_db = BenchDB(name)
    try:
        bench_db.exists()
    except Exception as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    db = bench_db.contract_db()
    try:
        _bench(out, "bench.seed", "--mailboxes", str(MAILBOXES), "--db", name)
        _bench(out, "bench.lookups", "--db", name, "--keys", "60", "--repeat", "1")
        yield db, out / name
    finally:
        drop_roles(db, (f"{name}_postfix", f"{name}_dovecot", f"{name}_pfa"))
        drop_contract_db(db)


def test_seeded_counts_follow_the_plan(seeded: tuple[ContractDB, Path]) -> None:
    _, out = seeded
    seed = json.loads((out / "seed.json").read_text())
    counts, plan = seed["counts"], seed["plan"]
    assert counts["mailboxes_mailbox"] == MAILBOXES
    assert counts["domains_domain"] == plan["domains"] + plan["relay_domains"]
    assert counts["domains_aliasdomain"] == plan["alias_domains"]
    # PostfixAdmin's layout: one row per mailbox, alias rows for every address.
    assert counts["postfixadmin.mailbox"] == MAILBOXES
    assert counts["postfixadmin.alias"] >= MAILBOXES + plan["aliases"]
    hashes = {h.split("}")[0] + "}" for h in _column(seeded[0], "password")}
    assert hashes == {"{ARGON2ID}", "{SHA512-CRYPT}"}


def test_seeded_usage_is_resolved_by_the_triggers(seeded: tuple[ContractDB, Path]) -> None:
    """The seeder writes quota usage as Dovecot does (username, bytes, messages); the table's
    triggers must have filled in every row's mailbox, domain and share of the quota."""
    db, out = seeded
    counts = json.loads((out / "seed.json").read_text())["counts"]
    reported = counts["mailadmin_quota_usage"]
    assert abs(reported - MAILBOXES * 9 // 10) <= 2  # 90% of the mailboxes reported
    unresolved, wrong, limited, nearly_full = _row(
        db,
        "SELECT count(*) FILTER (WHERE u.mailbox_id IS NULL OR u.domain_id IS DISTINCT FROM"
        "       m.domain_id),"
        "       count(*) FILTER (WHERE u.permille IS DISTINCT FROM CASE WHEN m.quota > 0 THEN"
        "       LEAST(u.bytes * 1000 / m.quota, 1000000) END),"
        "       count(u.permille), count(*) FILTER (WHERE u.permille >= 900)"
        "  FROM mailadmin_quota_usage u"
        "  LEFT JOIN mailboxes_mailboxlogin l ON l.username = u.username"
        "  LEFT JOIN mailboxes_mailbox m ON m.id = l.mailbox_id",
    )
    assert (unresolved, wrong) == (0, 0)
    assert 0 < int(nearly_full) < int(limited) < reported


def _column(db: ContractDB, column: str) -> list[str]:
    import psycopg

    from tests.support import _pg_conninfo

    with psycopg.connect(_pg_conninfo(db.name)) as conn:
        return [r[0] for r in conn.execute(f"SELECT {column} FROM mailboxes_mailbox")]  # noqa: S608


def _row(db: ContractDB, sql: str) -> tuple[str, ...]:
    import psycopg

    from tests.support import _pg_conninfo

    with psycopg.connect(_pg_conninfo(db.name)) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None, sql
        return tuple(row)


def test_postmap_answers_the_seeded_addresses(seeded: tuple[ContractDB, Path]) -> None:
    db, out = seeded
    postfix = out / "export" / "postfix"
    local, domain, path = _row(
        db,
        "SELECT m.local_part, d.name, m.path FROM mailboxes_mailbox m"
        " JOIN domains_domain d ON d.id = m.domain_id WHERE m.id = 5",
    )
    assert postmap_query(f"pgsql:{postfix}/virtual_mailbox_maps.cf", f"{local}@{domain}") == path
    # Mailbox 5 is alias 1's destination; the alias answers with it.
    alias_local, alias_domain = _row(
        db,
        "SELECT a.local_part, d.name FROM mailboxes_alias a"
        " JOIN domains_domain d ON d.id = a.domain_id WHERE a.id = 1",
    )
    alias_key = f"{alias_local}@{alias_domain}"
    assert postmap_query(f"pgsql:{postfix}/virtual_alias_maps.cf", alias_key) == f"{local}@{domain}"
    # The alias domain mirror1.example points at the big domain: its addresses rewrite there.
    big_local, big_domain = _row(
        db,
        "SELECT m.local_part, d.name FROM mailboxes_mailbox m"
        " JOIN domains_domain d ON d.id = m.domain_id WHERE m.id = 1",
    )
    assert (
        postmap_query(f"pgsql:{postfix}/virtual_alias_maps.cf", f"{big_local}@mirror1.example")
        == f"{big_local}@{big_domain}"
    )
    # Domain 3 has a catch-all; only the @domain key reaches it.
    (catchall_domain,) = _row(db, "SELECT name FROM domains_domain WHERE id = 3")
    catchall = f"pgsql:{postfix}/virtual_alias_catchall_maps.cf"
    assert postmap_query(catchall, f"@{catchall_domain}") is not None
    assert postmap_query(catchall, f"nobody@{catchall_domain}") is None
    # PostfixAdmin's documented queries over its layout give the same mailbox path.
    pfa = out / "postfixadmin" / "virtual_mailbox_maps.cf"
    assert postmap_query(f"pgsql:{pfa}", f"{local}@{domain}") == path


def test_lookup_figures_cover_every_layout(seeded: tuple[ContractDB, Path]) -> None:
    _, out = seeded
    figures = json.loads((out / "lookups.json").read_text())["parameters"]
    mailbox = figures["virtual_mailbox_maps"]
    assert set(mailbox) >= {"mailadmin", "postfixadmin", "hash"}
    for layout in ("mailadmin", "postfixadmin", "hash"):
        assert mailbox[layout]["keys"] == 60
        assert mailbox[layout]["hits"] == 54  # 90% hits
        assert mailbox[layout]["lookups_per_s"] > 0
    # The same rows in three layouts: the same answers.
    assert mailbox["differ_postfixadmin_vs_mailadmin"]["count"] == 0
    assert figures["virtual_alias_maps"]["differ_hash_vs_mailadmin"]["count"] == 0
