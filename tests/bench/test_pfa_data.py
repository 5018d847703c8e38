"""bench.pfa_data at a tiny size, so that it cannot rot: PostfixAdmin's tables filled by bulk
SQL, imported by `manage.py import_postfixadmin`, both sides asked the same keys through the
real postmap, with the panel's MariaDB database and SQLite file beside PostgreSQL. The
figures' shape and the answers are checked, never the times."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.bench.test_bench_scripts import _bench
from tests.support import drop_roles, require_tool

pytestmark = pytest.mark.tools

MAILBOXES = 200
DOMAINS = 20
KEYS = 50
ROUNDS = 2


def test_pfa_data_mode_measures_both_sides(tmp_path: Path) -> None:
    require_tool("postmap")
    from bench.common import BenchDB

    target = BenchDB(f"mailadmin_bench_p{uuid.uuid4().hex[:8]}")
    source = BenchDB(f"{target.name}_pfa")
    try:
        target.exists()
    except Exception as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    try:
        _bench(
            tmp_path,
            "bench.pfa_data",
            *("--mailboxes", str(MAILBOXES), "--domains", str(DOMAINS)),
            *("--keys", str(KEYS), "--rounds", str(ROUNDS), "--db", target.name),
            *("--dialects", "pgsql,mysql,sqlite"),
        )
        result = json.loads((tmp_path / target.name / "pfa-data.json").read_text())
    finally:
        if target.exists():
            drop_roles(target.contract_db(), (f"{target.name}_postfix", f"{target.name}_dovecot"))
        if source.exists():
            drop_roles(source.contract_db(), (f"{source.name}_pfa",))
        target.drop()
        source.drop()
        from bench import other_dialects
        from tests.support import ContractDB

        mysql = ContractDB("mysql", target.name, "", "127.0.0.1", 3306)
        other_dialects.drop(mysql, target)
    assert (result["mailboxes"], result["domains"], result["keys"]) == (MAILBOXES, DOMAINS, KEYS)
    assert set(result["phases"]) == {"after_import", "after_analyze"}
    for phase in result["phases"].values():
        assert {
            "virtual_mailbox_maps mailadmin",
            "virtual_mailbox_maps postfixadmin",
            "virtual_alias_maps mailadmin",
            "virtual_alias_maps postfixadmin",
            "virtual_mailbox_domains mailadmin",
            "virtual_mailbox_domains postfixadmin",
            "floor SELECT '%s'",
            "hash: mailbox map",
        } <= set(phase)
        for row in phase.values():
            assert len(row["runs_us"]) == ROUNDS
            assert row["min_us"] <= row["median_us"] <= row["max_us"]
        # The floor answers every key; the mailbox map the 80% that are mailboxes, on both
        # sides and in the hash: file, with the same answers.
        assert phase["floor SELECT '%s'"]["hits"] == KEYS
        mailbox_hits = {
            phase[name]["hits"]
            for name in (
                "virtual_mailbox_maps mailadmin",
                "virtual_mailbox_maps postfixadmin",
                "hash: mailbox map",
            )
        }
        assert mailbox_hits == {KEYS * 8 // 10}
        for name, row in phase.items():
            if name.endswith((" postfixadmin", " mysql", " sqlite")) and "floor" not in name:
                assert row["differ_from_mailadmin"]["count"] == 0, name
        # MariaDB and SQLite: every chain, their floors, the same hits as PostgreSQL's.
        for dialect in ("mysql", "sqlite"):
            assert phase[f"floor SELECT '%s' {dialect}"]["hits"] == KEYS
            for name in [n for n in phase if n.endswith(" mailadmin")]:
                assert phase[f"{name} {dialect}"]["hits"] == phase[name]["hits"], name
        assert phase["virtual_mailbox_maps mailadmin mysql"]["hits"] == KEYS * 8 // 10
    # The import left planner statistics behind (transfer/analyze.py); PostfixAdmin's bulk
    # INSERTs none until the VACUUM ANALYZE.
    planner = result["planner"]
    assert planner["after_import"]["mailadmin"]["mailboxes_mailbox"]["analyzed"]
    assert planner["after_import"]["mailadmin"]["mailboxes_mailbox"]["reltuples"] == MAILBOXES
    assert planner["after_analyze"]["postfixadmin"]["mailbox"]["reltuples"] == MAILBOXES
