"""What an import found: every bad or skipped row with its line and reason, and the counts.

A reason is the message of the rule that refused the row, the services' own
(mailboxes/rules.py, domains/services.py): `problem_text` names the CSV column where a service
names its form field.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from transfer.csvformat import KINDS

MAX_LISTED = 1000  # errors and skips kept for the report; the counts are always complete

# A service's field -> the CSV column that holds it.
_COLUMNS = {"address": "name", "local_part": "name", "storage_format": "format"}


@dataclass
class Problem:
    line: int
    reason: str


@dataclass
class Report:
    rows: int = 0
    created: Counter[str] = field(default_factory=Counter)
    skipped: list[Problem] = field(default_factory=list)
    skipped_count: int = 0
    errors: list[Problem] = field(default_factory=list)
    error_count: int = 0
    committed: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(Problem(line, reason))

    def skip(self, line: int, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_LISTED:
            self.skipped.append(Problem(line, reason))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": {kind: self.created.get(kind, 0) for kind in KINDS},
            "skipped": [[p.line, p.reason] for p in self.skipped],
            "skipped_count": self.skipped_count,
            "errors": [[p.line, p.reason] for p in sorted(self.errors, key=lambda p: p.line)],
            "error_count": self.error_count,
            "committed": self.committed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            rows=data.get("rows", 0),
            created=Counter(data.get("created", {})),
            skipped=[Problem(line, reason) for line, reason in data.get("skipped", [])],
            skipped_count=data.get("skipped_count", 0),
            errors=[Problem(line, reason) for line, reason in data.get("errors", [])],
            error_count=data.get("error_count", 0),
            committed=data.get("committed", False),
        )


class ImportRejected(Exception):
    """The commit found errors (or the data changed meanwhile); nothing was written."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"{report.error_count} error(s); nothing was imported")
        self.report = report


def problem_text(exc: ValidationError) -> str:
    """The reason for a row: `column: message` for an error of one field."""
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{_COLUMNS.get(name, name)}: {' '.join(messages)}"
            if name != "__all__"
            else " ".join(messages)
            for name, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)
