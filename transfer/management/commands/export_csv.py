"""manage.py export_csv: every domain, mailbox, alias and alias domain as CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from transfer.exporter import export_csv
from transfer.storage import open_private


class Command(BaseCommand):
    help = "Export domains, mailboxes, aliases and alias domains as CSV (the import format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="file to write (mode 0600); default stdout")
        parser.add_argument(
            "--no-hashes", action="store_true", help="leave the password column empty"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        include = not options["no_hashes"]
        if options["out"] is None:
            count = export_csv(sys.stdout, None, include_hashes=include)
        else:
            with open_private(options["out"]) as out:
                count = export_csv(out, None, include_hashes=include)
            self.stderr.write(f"{count} rows written to {options['out']}")
