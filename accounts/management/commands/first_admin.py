from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse

from accounts.services import admin_create


class Command(BaseCommand):
    help = "Create the first superadmin when there is none and print its login once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="where the panel is served"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if get_user_model().objects.filter(is_superuser=True).exists():
            return
        _user, password = admin_create(actor=None, username=options["username"], superadmin=True)
        login_url = options["url"].rstrip("/") + reverse("accounts:login")
        self.stdout.write(
            f"Created the first superadmin. Log in at {login_url} with\n"
            f"  username: {options['username']}\n  password: {password}\n"
            "This password is shown only now."
        )
