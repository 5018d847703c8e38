"""manage.py import_postfixadmin: migrate a PostfixAdmin database, re-runnably."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mailadmin import dburl
from transfer.importer import ImportRejected
from transfer.postfixadmin import SourceError, migrate, read_source


class Command(BaseCommand):
    help = "Import domains, mailboxes, aliases, alias domains and admins from PostfixAdmin."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--from",
            dest="url",
            metavar="URL",
            help="postgresql://user@host/db or mysql://user@host/db, without a password",
        )
        source.add_argument(
            "--from-env",
            metavar="VAR",
            help="read the URL (which may carry the password) from this environment variable",
        )
        parser.add_argument(
            "--password-file",
            type=Path,
            help="file whose first line is the database password",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="do the whole import, then roll it back"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["url"]:
            url = options["url"]
            try:
                if dburl.parse(url).password:
                    raise CommandError(
                        "--from: a password on the command line is visible to every local "
                        "user; use --password-file or --from-env"
                    )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        else:
            url = os.environ.get(options["from_env"], "")
            if not url:
                raise CommandError(f"--from-env: the variable {options['from_env']} is empty")
        password = None
        if options["password_file"] is not None:
            try:
                lines = options["password_file"].read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise CommandError(f"--password-file: {exc}") from None
            password = lines[0] if lines else ""
        try:
            data = read_source(url, password)
            report = migrate(data, dry_run=options["dry_run"])
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        except ImportRejected as exc:
            reasons = "; ".join(p.reason for p in exc.report.errors)
            raise CommandError(f"nothing was imported: {reasons}") from None
        for line in report.lines():
            self.stdout.write(line)
        if options["dry_run"]:
            self.stdout.write("dry run: everything was rolled back")
