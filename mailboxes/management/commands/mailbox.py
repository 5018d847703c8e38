from __future__ import annotations

from typing import Any

from django.conf import settings

from domains.selectors import domain_get
from mailadmin.cli import SubcommandCommand, address_label, found, size, table, yes_no
from mailadmin.passwords import generate_password
from mailadmin.sizes import format_size, format_used
from mailboxes import services
from mailboxes.display import usage_of
from mailboxes.models import Mailbox, StorageFormat
from mailboxes.selectors import mailbox_get, mailbox_list


class Command(SubcommandCommand):
    help = "Add, list, show, enable, disable and delete mailboxes, and set their passwords."
    field_labels = {"local_part": "address"}

    def add_actions(self) -> None:
        add = self.action("add", "Add a mailbox; prints a generated password unless given one.")
        add.add_argument("address", metavar="ADDRESS")
        add.add_argument("--name", default="", help="display name")
        add.add_argument("--quota", type=size, help="e.g. 2G (default: the domain's maximum)")
        add.add_argument("--format", choices=StorageFormat.values, default=StorageFormat.MAILDIR)
        add.add_argument("--uid", type=int, help="owner of delivered mail (default: domain's)")
        add.add_argument("--gid", type=int, help="group of delivered mail (default: domain's)")
        add.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )

        listing = self.action("list", "List mailboxes.")
        listing.add_argument("--domain", help="only this domain's mailboxes")
        listing.add_argument("--search", default="", help="part of the local part or name")

        self.action(
            "show", "Show a mailbox's settings and the usage Dovecot reported."
        ).add_argument("address", metavar="ADDRESS")

        passwd = self.action("passwd", "Set a new password; prints a generated one unless given.")
        passwd.add_argument("address", metavar="ADDRESS")
        passwd.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )

        self.action("enable", "Let a mailbox receive mail and log in again.").add_argument(
            "address", metavar="ADDRESS"
        )
        self.action("disable", "Stop a mailbox receiving mail and logging in.").add_argument(
            "address", metavar="ADDRESS"
        )
        delete = self.action("delete", "Delete a mailbox; its mail on disk is left in place.")
        delete.add_argument("address", metavar="ADDRESS")
        delete.add_argument("--yes", action="store_true", help="do not ask")

    def handle_add(self, options: dict[str, Any]) -> None:
        password = self.read_password() if options["password_stdin"] else None
        mailbox, generated = services.mailbox_create(
            actor=None,
            address=options["address"],
            password=password,
            name=options["name"],
            quota=options["quota"],
            storage_format=options["format"],
            uid=options["uid"],
            gid=options["gid"],
        )
        self.stdout.write(
            f"Created mailbox {_label(mailbox)}: {mailbox.format} at "
            f"{settings.MAILADMIN_MAIL_BASE}/{mailbox.path}, quota {format_size(mailbox.quota)}."
        )
        if generated is not None:
            self.stdout.write(f"Password (shown only now): {generated}")

    def handle_list(self, options: dict[str, Any]) -> None:
        domain = found(domain_get, name=options["domain"]) if options["domain"] else None
        mailboxes = mailbox_list(user=None, domain=domain, search=options["search"])
        rows = [
            (
                f"{m.local_part}@{m.domain.display_name}",
                m.name,
                format_size(m.quota),
                m.format,
                yes_no(m.active),
            )
            for m in mailboxes
        ]
        if not rows:
            self.stdout.write("No mailboxes.")
            return
        for line in table(("ADDRESS", "NAME", "QUOTA", "FORMAT", "ACTIVE"), rows):
            self.stdout.write(line)

    def handle_show(self, options: dict[str, Any]) -> None:
        mailbox = found(mailbox_get, address=options["address"])
        usage = usage_of(mailbox)
        if usage is None:
            used = messages = reported = "not reported by Dovecot yet"
        else:
            used = f"{usage.bytes} bytes ({format_used(usage.bytes)})"
            if usage.percent is not None:
                used += f", {usage.percent}% of the quota"
            messages = str(usage.messages)
            reported = usage.updated_at.isoformat(timespec="seconds")
        fields = [
            ("address", _label(mailbox)),
            ("name", mailbox.name or "-"),
            ("active", yes_no(mailbox.active)),
            (
                "quota",
                f"{mailbox.quota} bytes ({format_size(mailbox.quota)})"
                if mailbox.quota
                else format_size(0),
            ),
            ("used", used),
            ("messages", messages),
            ("reported", reported),
            ("format", mailbox.format),
            ("path", f"{settings.MAILADMIN_MAIL_BASE}/{mailbox.path}"),
            ("uid", mailbox.uid if mailbox.uid is not None else "(inherited)"),
            ("gid", mailbox.gid if mailbox.gid is not None else "(inherited)"),
            ("panel login", yes_no(mailbox.panel_login_enabled)),
            ("created", mailbox.created_at.isoformat(timespec="seconds")),
            ("updated", mailbox.updated_at.isoformat(timespec="seconds")),
        ]
        width = max(len(label) for label, _value in fields)
        for label, value in fields:
            self.stdout.write(f"{label + ':':{width + 1}} {value}")

    def handle_passwd(self, options: dict[str, Any]) -> None:
        mailbox = found(mailbox_get, address=options["address"])
        password = self.read_password() if options["password_stdin"] else generate_password()
        services.mailbox_set_password(actor=None, mailbox=mailbox, password=password)
        self.stdout.write(f"Set a new password for {_label(mailbox)}.")
        if not options["password_stdin"]:
            self.stdout.write(f"Password (shown only now): {password}")

    def handle_enable(self, options: dict[str, Any]) -> None:
        mailbox = found(mailbox_get, address=options["address"])
        services.mailbox_set_active(actor=None, mailbox=mailbox, active=True)
        self.stdout.write(f"Enabled mailbox {_label(mailbox)}.")

    def handle_disable(self, options: dict[str, Any]) -> None:
        mailbox = found(mailbox_get, address=options["address"])
        services.mailbox_set_active(actor=None, mailbox=mailbox, active=False)
        self.stdout.write(
            f"Disabled mailbox {_label(mailbox)}: it receives no mail and cannot log in."
        )

    def handle_delete(self, options: dict[str, Any]) -> None:
        mailbox = found(mailbox_get, address=options["address"])
        label = _label(mailbox)
        on_disk = f"{settings.MAILADMIN_MAIL_BASE}/{mailbox.path}"
        if not options["yes"]:
            self.confirm(
                f"Delete mailbox {label}? (its mail under {on_disk} stays on disk)",
                refusal=f"this would delete mailbox {label}; its mail under {on_disk} would "
                "stay on disk. Run again with --yes to do it.",
            )
        services.mailbox_delete(actor=None, mailbox=mailbox)
        self.stdout.write(
            f"Deleted mailbox {label}. Its mail under {on_disk} is left on disk: "
            "archive or remove it yourself."
        )


def _label(mailbox: Mailbox) -> str:
    return address_label(mailbox.local_part, mailbox.domain.name)
