"""Django's createsuperuser, refused: admins are created through the accounts services
(`manage.py admin add --superadmin`, or `first_admin` on a new install), which apply the
username and password rules and write the audit log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Not used in mailadmin: use `manage.py admin add USERNAME --superadmin`."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("args", nargs="*")
        parser.add_argument("--noinput", "--no-input", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        raise CommandError(
            "mailadmin creates admins with `manage.py admin add USERNAME --superadmin` "
            "(or `manage.py first_admin` on a new install; audited)"
        )
