"""Django's changepassword, refused: an admin's password is set through the accounts services
(`manage.py admin password`), which apply the password rules and write the audit log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Not used in mailadmin: use `manage.py admin password USERNAME`."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("args", nargs="*")

    def handle(self, *args: Any, **options: Any) -> None:
        raise CommandError(
            "mailadmin sets admin passwords with `manage.py admin password USERNAME` "
            "(read from stdin or generated; audited)"
        )
