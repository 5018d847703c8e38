"""The trace asks what Postfix asks and gets what Postfix gets.

The same world (tests/contract/scenario.py) is built twice: in the test database, where the
engine reads it through Django's connection, and in a contract database exported with
`manage.py export_maps`, where the real `postmap -q` reads it as the read-only Postfix role.
Every lookup the engine made for a set of addresses must have postmap's answer.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailadmin.contract.trace import trace_address
from mailboxes.trace_notes import ModelTraceNotes
from tests.contract.conftest import World
from tests.contract.scenario import BUILD, IDN_DOMAIN, build
from tests.support import create_contract_db, drop_contract_db, drop_roles

pytestmark = [pytest.mark.django_db, pytest.mark.tools]
# The notes the panel reads from mailadmin's tables, as the trace page hands them in.
NOTES = ModelTraceNotes()

ADDRESSES = [
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "dave@example.com",
    "erin@example.com",
    "mixed@example.com",
    "o'brien@example.com",
    "team@example.com",
    "old@example.com",
    "nobody@example.com",
    "Alice@Example.COM",
    "frank@nodefault.example",
    "gina@inactive.example",
    "info@inactive.example",
    "henry@nocatch.example",
    "nobody@nocatch.example",
    "ivan@transported.example",
    "x@relay.example",
    "x@backup.example",
    f"jan@{IDN_DOMAIN}",
    "jan@bücher.example",  # the U-label an SMTPUTF8 client sends
    "nobody@bücher.example",
    "postmaster@nocatch.example",  # the server's postmaster answers for it
    "abuse@alias-nocatch.example",
    "alice@alias.example",
    "team@alias.example",
    "nobody@alias.example",
    "henry@alias-nocatch.example",
    "nobody@alias-nocatch.example",
    "alice@off-alias.example",
    "someone@elsewhere.net",
    # Address extensions (recipient_delimiter +): the engine asks the exact key, then the key
    # without the extension, then the catch-all. postmap -q looks up the literal key it is
    # given (dict_get; it applies no recipient_delimiter), so every key of these traces,
    # with and without the extension, is compared one by one; which key Postfix asks next is
    # tests/e2e/test_exported_policy.py's to check against the real smtpd and cleanup.
    "alice+tag@example.com",
    "carol+tag@example.com",
    "nobody+tag@example.com",
    "henry+tag@nocatch.example",
    "nobody+tag@nocatch.example",
    "ivan+tag@transported.example",
    "x+tag@relay.example",
    "alice+tag@alias.example",
    "nobody+tag@alias.example",
    "o'brien+tag@example.com",
]


@pytest.fixture(scope="module")
def pg_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The scenario in its own PostgreSQL database, exported, read by its own read-only roles
    (never the contract tests' roles: roles.sql resets the passwords of the roles it names)."""
    folder: Path = tmp_path_factory.mktemp("trace-world")
    db = create_contract_db("pgsql", folder)
    out = folder / "out"
    tag = uuid.uuid4().hex[:8]
    roles = (f"mailadmin_trace_postfix_{tag}", f"mailadmin_trace_dovecot_{tag}")
    try:
        db.python(BUILD)
        db.manage(
            "export_maps",
            "--dialect",
            "pgsql",
            "--out",
            str(out),
            "--db-url",
            db.url,
            "--postfix-dir",
            str(out / "postfix"),
            "--no-proxy",
            "--postfix-role",
            roles[0],
            "--dovecot-role",
            roles[1],
        )
        db.execute_admin((out / "sql" / "roles.sql").read_text())
        yield World(db, out)
    finally:
        drop_roles(db, roles)
        drop_contract_db(db)


def rows(answer: str | None) -> frozenset[str]:
    return frozenset(answer.split(",")) if answer else frozenset()


def test_every_lookup_of_the_trace_agrees_with_postmap(pg_world: World) -> None:
    world = pg_world
    build()
    engine: dict[str, dict[str, frozenset[str]]] = defaultdict(dict)
    for address in ADDRESSES:
        for lookup in trace_address(address.lower(), notes=NOTES).lookups:
            engine[lookup.table][lookup.key] = rows(lookup.answer)

    # The trace went through every kind of table a delivery decision needs.
    assert {
        "virtual_mailbox_domains",
        "virtual_alias_domains",
        "relay_domains",
        "virtual_alias_maps",
        "virtual_alias_catchall_maps",
        "virtual_mailbox_maps",
        "virtual_uid_maps",
        "virtual_gid_maps",
        "transport_maps",
    } <= set(engine)
    found_somewhere = 0
    for table, answers in engine.items():
        keys = sorted(answers)
        postmap: dict[str, frozenset[str]] = {key: frozenset() for key in keys}
        for line in world.lookup_all(table, keys):
            key, _tab, answer = line.partition("\t")
            postmap[key] = rows(answer)
        assert answers == postmap, table
        found_somewhere += sum(1 for value in answers.values() if value)
    assert found_somewhere > 20
    # The extended keys were asked, and so were the keys without the extension.
    extended = {key for answers in engine.values() for key in answers if "+tag@" in key}
    assert {"alice+tag@example.com", "x+tag@relay.example"} <= extended
    assert engine["virtual_alias_maps"]["henry@nocatch.example"]
