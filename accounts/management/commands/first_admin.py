from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from accounts.services import admin_create

# What a browser on the same machine uses for an address that means "every interface".
_ANY_HOST = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}  # noqa: S104 (read, not bound)
GUNICORN_PORT = "8000"  # gunicorn's port when --bind names none


def url_of_bind(bind: str) -> str:
    """The panel's URL for gunicorn's --bind (HOST, HOST:PORT, [V6], [V6]:PORT); a unix
    socket has none (the reverse proxy in front of it has)."""
    if bind.startswith(("unix:", "fd://")):
        return ""
    if bind.startswith("["):
        address, _, rest = bind.partition("]")
        host = f"{address}]"
        port = rest[1:] if rest.startswith(":") else GUNICORN_PORT
    elif ":" in bind:
        host, _, port = bind.rpartition(":")
    else:
        host, port = bind, GUNICORN_PORT
    if not port.isdigit():
        raise CommandError(f"--bind {bind!r} is not HOST:PORT")
    return f"http://{_ANY_HOST.get(host, host)}:{port}"


class Command(BaseCommand):
    help = (
        "Create the first superadmin when there is none and print its login once; print the"
        " panel's login URL on every run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--url", help="where the panel is served, e.g. https://panel.example.net"
        )
        where.add_argument(
            "--bind", help="gunicorn's --bind (HOST:PORT): the URL is the panel's on this machine"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base = options["url"] or url_of_bind(options["bind"] or f"127.0.0.1:{GUNICORN_PORT}")
        login = base.rstrip("/") + reverse("accounts:login") if base else ""
        if get_user_model().objects.filter(is_superuser=True).exists():
            if login:
                self.stdout.write(f"The panel: {login}")
            return
        _user, password = admin_create(actor=None, username=options["username"], superadmin=True)
        where = f"Log in at {login} with" if login else "Log in with"
        self.stdout.write(
            f"Created the first superadmin. {where}\n"
            f"  username: {options['username']}\n  password: {password}\n"
            "This password is shown only now."
        )
