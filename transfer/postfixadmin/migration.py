"""The migration itself: PostfixAdmin's rows through the importer, then its admins and its
vacation replies, in one transaction, with one report of what was imported, skipped and
adjusted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction

from transfer.importer import Importer, Report, analyze_tables
from transfer.postfixadmin.admins import AUDIT_LABEL, import_admins
from transfer.postfixadmin.mapping import map_rows
from transfer.postfixadmin.source import PfaData
from transfer.postfixadmin.vacations import import_vacations


@dataclass
class MigrationReport:
    imported: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> Iterator[str]:
        total = sum(self.imported.values())
        counts = ", ".join(f"{n} {kind}" for kind, n in self.imported.items() if n)
        yield f"imported: {counts}" if total else "imported: nothing new"
        if self.skipped:
            yield f"skipped ({len(self.skipped)}):"
            for what, why in self.skipped:
                yield f"  {what}: {why}"
        if self.notes:
            yield "notes:"
            for note in self.notes:
                yield f"  {note}"


class _DryRun(Exception):
    pass


def migrate(data: PfaData, *, dry_run: bool = False) -> MigrationReport:
    """Import `data` in one transaction; skipped rows are reported.

    A dry run does the whole import and rolls it back, so its report is exactly what a real
    run would do.
    """
    mapping = map_rows(data)
    report = MigrationReport(skipped=list(mapping.left_out), notes=list(mapping.notes))
    importer = Importer(
        mapping.records,
        actor=None,
        actor_label=AUDIT_LABEL,
        on_existing="skip",
        on_error="skip",
    )
    try:
        with transaction.atomic():
            result: Report = importer.commit()
            for problem in sorted(result.skipped, key=lambda p: p.line):
                report.skipped.append((mapping.labels.get(problem.line, "?"), problem.reason))
            for kind in ("domain", "aliasdomain", "mailbox", "alias", "relayrecipient"):
                report.imported[kind] = result.created.get(kind, 0)
            admins = import_admins(data)
            report.imported["admin"] = admins.created
            report.imported["domain grant"] = admins.granted
            report.skipped.extend(admins.skipped)
            report.notes.extend(admins.notes)
            vacations = import_vacations(data, actor_label=AUDIT_LABEL)
            report.imported["vacation"] = vacations.created
            report.skipped.extend(vacations.skipped)
            report.notes.extend(vacations.notes)
            if dry_run:
                raise _DryRun
    except _DryRun:
        return report
    analyze_tables()
    return report
