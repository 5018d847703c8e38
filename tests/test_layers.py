"""Imports point down the layers (README, "Layout"); the arrows that point up are listed here,
each with its reason, and a new one fails until it is argued for.

Function-level imports count too: hiding an arrow inside a function does not remove it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lower numbers are lower layers; apps of one layer may import each other.
LAYERS = {
    "mailadmin": 0,
    "audit": 1,
    "domains": 2,
    "mailboxes": 3,
    "accounts": 4,
    "selfservice": 4,
    # The owners' forwarding policy binds the filters' forwarding (selfservice.forwarding);
    # the PostfixAdmin migration writes vacation replies through sieve.services.
    "sieve": 4,
    "transfer": 4,
    "bench": 5,
}
ALLOWED_UP = {
    # The config page audits who downloaded the read-only roles' passwords.
    ("mailadmin/contract/views.py", "audit.services"),
    # The audit log's pages are scoped by domain grants through the one selector layer.
    ("audit/selectors.py", "domains.selectors"),
    ("audit/views.py", "domains.selectors"),
}


def upward_imports(root: Path = ROOT) -> set[tuple[str, str]]:
    found = set()
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        app = relative.parts[0]
        if app not in LAYERS or "migrations" in relative.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                target = module.split(".")[0]
                if target in LAYERS and LAYERS[target] > LAYERS[app]:
                    found.add((relative.as_posix(), module))
    return found


def test_imports_point_down_but_for_the_listed_arrows() -> None:
    assert upward_imports() == ALLOWED_UP


def test_the_check_sees_a_hidden_upward_import(tmp_path: Path) -> None:
    (tmp_path / "domains").mkdir()
    (tmp_path / "domains" / "selectors.py").write_text(
        "import mailadmin.names\n\ndef f():\n    from mailboxes.models import Mailbox\n"
    )
    assert upward_imports(tmp_path) == {("domains/selectors.py", "mailboxes.models")}
