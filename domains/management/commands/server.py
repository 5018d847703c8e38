"""manage.py server show|set: the server-wide defaults Postfix and Dovecot read."""

from __future__ import annotations

from typing import Any

from domains import services
from domains.models import ServerSettings
from mailadmin.cli import SubcommandCommand


class Command(SubcommandCommand):
    help = "Show or change the server-wide mail defaults (owner uid/gid, postmaster address)."

    field_labels = {
        "default_uid": "--uid",
        "default_gid": "--gid",
        "postmaster_address": "--postmaster",
    }

    def add_actions(self) -> None:
        self.action("show", "Show the server-wide defaults.", json_output=True)
        change = self.action("set", "Change the server-wide defaults; unnamed ones stay.")
        change.add_argument(
            "--uid",
            type=int,
            help="owner of delivered mail when neither the mailbox nor its domain names one",
        )
        change.add_argument("--gid", type=int, help="group of delivered mail, likewise")
        change.add_argument(
            "--postmaster",
            metavar="ADDRESS",
            help="where postmaster@ and abuse@ of every domain go when nothing else takes them "
            "(an address, postmaster@localhost for /etc/aliases, or '' to refuse them)",
        )

    def handle_show(self, options: dict[str, Any]) -> None:
        row = ServerSettings.load()
        record = {
            "default_uid": row.default_uid,
            "default_gid": row.default_gid,
            "postmaster_address": row.postmaster_address or None,
        }
        fields = [
            ("default uid", row.default_uid),
            ("default gid", row.default_gid),
            ("postmaster address", row.postmaster_address or "(none: refused)"),
        ]
        self.print_fields(options, record, fields)

    def handle_set(self, options: dict[str, Any]) -> None:
        row = services.server_settings_update(
            actor=None,
            default_uid=options["uid"],
            default_gid=options["gid"],
            postmaster_address=options["postmaster"],
        )
        self.stdout.write(
            f"Server defaults: uid {row.default_uid}, gid {row.default_gid}, "
            f"postmaster {row.postmaster_address or '(none: refused)'}."
        )
