"""manage.py backup: every object as one JSON file, for `manage.py restore`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from transfer.backup import write_backup
from transfer.storage import open_private


class Command(BaseCommand):
    help = "Write a full JSON backup of every object (password hashes included)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="file to write (mode 0600); default stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["out"] is None:
            write_backup(sys.stdout)
            return
        with open_private(options["out"]) as out:
            write_backup(out)
        self.stderr.write(f"backup written to {options['out']}")
