from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from mailboxes.passwords import generate_password


class Command(BaseCommand):
    help = "Create the first superadmin when there is none and print its login once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            return
        password = generate_password()
        user_model.objects.create_superuser(username=options["username"], password=password)
        self.stdout.write(
            "Created the first superadmin. Log in at http://127.0.0.1:8000/admin/ with\n"
            f"  username: {options['username']}\n  password: {password}\n"
            "This password is shown only now."
        )
