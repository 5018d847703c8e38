"""The trace's notes are handed in: without them the trace is the same lookups and the same
decisions, with no note and no read of an application table; the contract imports no app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mailadmin.contract import trace
from mailadmin.contract.trace import trace_address
from mailboxes.trace_notes import ModelTraceNotes
from tests.contract.scenario import build

CONTRACT = Path(trace.__file__).parent
# The notes read from mailadmin's tables (note_extension_* come from the lookups themselves).
TABLE_NOTES = {
    "note_domain_inactive",
    "note_alias_domain_inactive",
    "note_alias_domain_target_off",
    "note_mailbox_inactive",
    "note_alias_inactive",
    "note_role_fallback",
}
APPS = {"accounts", "audit", "domains", "mailboxes", "selfservice", "transfer"}


@pytest.fixture
def world() -> None:
    build()


def without_table_notes(result: trace.Trace) -> list[trace.Step]:
    return [step for step in result.steps if step.code not in TABLE_NOTES]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("address", "note"),
    [
        ("gina@inactive.example", "note_domain_inactive"),
        ("carol@example.com", "note_mailbox_inactive"),
        ("old@example.com", "note_alias_inactive"),
        ("postmaster@nocatch.example", "note_role_fallback"),
    ],
)
def test_without_notes_the_trace_only_loses_its_notes(world: None, address: str, note: str):
    noted = trace_address(address, notes=ModelTraceNotes())
    assert note in [step.code for step in noted.steps]
    with CaptureQueriesContext(connection) as queries:
        bare = trace_address(address)
    assert not TABLE_NOTES & {step.code for step in bare.steps}
    assert bare.steps == without_table_notes(noted)
    assert (bare.verdict, bare.reply, bare.deliveries) == (
        noted.verdict,
        noted.reply,
        noted.deliveries,
    )
    # Only the exported Postfix queries, against the contract views.
    tables = ("domains_", "mailboxes_")
    assert not [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in tables)]


def imported_packages(path: Path) -> set[str]:
    """Every top-level package `path` imports, function-level imports included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.partition(".")[0])
    return names


def test_the_contract_imports_no_app_above_it() -> None:
    modules = [p for p in CONTRACT.rglob("*.py") if "migrations" not in p.parts]
    assert len(modules) > 10
    found = {
        str(path.relative_to(CONTRACT)): sorted(imported_packages(path) & APPS) for path in modules
    }
    # The config page records who revealed or downloaded the credentials in the audit log.
    allowed = {"views.py": ["audit"]}
    assert {path: apps for path, apps in found.items() if apps} == allowed
