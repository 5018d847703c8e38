"""manage.py import_csv FILE: check a CSV file and import it, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from transfer.csvformat import CsvFile, HeaderError
from transfer.importer import Importer, ImportRejected, Report, analyze_tables
from transfer.progress import ProgressBar

MAX_SHOWN = 200


def print_report(out: Any, report: Report, *, dry_run: bool) -> None:
    verb = "would create" if dry_run or not report.committed else "created"
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.created.items()) if n)
    out.write(f"{report.rows} rows; {verb}: {counts or 'nothing'}")
    if report.skipped_count:
        out.write(f"skipped {report.skipped_count}:")
        for problem in report.skipped[:MAX_SHOWN]:
            out.write(f"  line {problem.line}: {problem.reason}")


def print_errors(err: Any, report: Report) -> None:
    for problem in sorted(report.errors, key=lambda p: p.line)[:MAX_SHOWN]:
        where = f"line {problem.line}" if problem.line else "file"
        err.write(f"{where}: {problem.reason}")
    if report.error_count > MAX_SHOWN:
        err.write(f"... and {report.error_count - MAX_SHOWN} more")


class Command(BaseCommand):
    help = "Import domains, mailboxes, aliases and alias domains from a CSV file (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file (see docs/import-export.md)")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="import with the rights of this admin (a domain admin: only their domains)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        actor = None
        if options["as_user"]:
            try:
                actor = get_user_model().objects.get(username=options["as_user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"no such user: {options['as_user']}") from None
        source = CsvFile(path=path)
        # The bar writes to the real stream under self.stderr (call_command may give another).
        stream = getattr(self.stderr, "_out", sys.stderr)
        bar = None if options["no_progress"] else ProgressBar(stream)
        try:
            total = source.count()
            importer = Importer(source, actor=actor, progress=bar, total=total)
            report = importer.validate() if options["dry_run"] else importer.commit()
            if report.committed:
                analyze_tables()
        except HeaderError as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported") from None
        except ImportRejected as exc:
            report = exc.report
        finally:
            if bar is not None:
                bar.close()
        print_report(self.stdout, report, dry_run=options["dry_run"])
        if not report.ok:
            print_errors(self.stderr, report)
            raise CommandError(f"{report.error_count} bad row(s); nothing was imported")
        if options["dry_run"]:
            self.stdout.write("dry run: nothing was written")
