"""manage.py restore FILE: load a backup into an empty, migrated database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from transfer.backup import RestoreError, read_backup, restore


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into an empty database (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the backup file, or - for stdin")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["file"] == "-":
                data = read_backup(sys.stdin)
            else:
                path = Path(options["file"])
                if not path.is_file():
                    raise CommandError(f"{path}: no such file")
                with path.open(encoding="utf-8") as stream:
                    data = read_backup(stream)
            count = restore(data)
        except RestoreError as exc:
            raise CommandError(f"{exc}; nothing was restored") from None
        self.stdout.write(f"{count} objects restored")
