from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from domains.selectors import domain_get
from mailadmin.cli import (
    Record,
    SubcommandCommand,
    add_choice_flags,
    add_owner_id_options,
    address_label,
    changed_settings,
    found,
    iso,
    size,
    yes_no,
)
from mailadmin.passwords import generate_password
from mailadmin.sizes import format_size, format_used
from mailboxes import services
from mailboxes.display import usage_of
from mailboxes.models import Mailbox, StorageFormat
from mailboxes.selectors import mailbox_get, mailbox_list


class Command(SubcommandCommand):
    help = "Add, list, show, change, enable, disable and delete mailboxes; set their passwords."
    field_labels = {"local_part": "address", "alias_copy": "address"}

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
        add_choice_flags(
            add,
            "alias_copy",
            ("--alias-copy", "ADDRESS is an alias's: it delivers a copy to the new mailbox too"),
            (
                "--no-alias-copy",
                "ADDRESS is an alias's: it goes on taking all mail, the mailbox gets none",
            ),
        )

        listing = self.action("list", "List mailboxes.", json_output=True)
        listing.add_argument("--domain", help="only this domain's mailboxes")
        listing.add_argument("--search", default="", help="part of the local part or name")

        self.action(
            "show", "Show a mailbox's settings and the usage Dovecot reported.", json_output=True
        ).add_argument("address", metavar="ADDRESS")

        # SUPPRESS: an option not given is absent, so that only the named settings change.
        change = self.action("set", "Change a mailbox's settings; those not named stay.")
        change.add_argument("address", metavar="ADDRESS")
        change.add_argument("--name", default=argparse.SUPPRESS, help="display name")
        change.add_argument(
            "--quota", type=size, default=argparse.SUPPRESS, help="e.g. 2G; 0 or unlimited"
        )
        add_owner_id_options(change, inherited_from="the domain's")

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
            alias_copy=options["alias_copy"],
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
        columns = (
            ("ADDRESS", lambda r: r["address"]),
            ("NAME", lambda r: r["name"]),
            ("QUOTA", lambda r: format_size(r["quota"])),
            ("FORMAT", lambda r: r["format"]),
            ("ACTIVE", lambda r: yes_no(bool(r["active"]))),
        )
        records = (_record(m) for m in mailboxes.iterator(chunk_size=2000))
        self.print_records(options, records, columns, empty="No mailboxes.")

    def handle_show(self, options: dict[str, Any]) -> None:
        mailbox = found(mailbox_get, address=options["address"])
        usage = usage_of(mailbox)
        record = _record(mailbox) | {
            "used_bytes": usage.bytes if usage else None,
            "used_percent": usage.percent if usage else None,
            "messages": usage.messages if usage else None,
            "usage_reported": iso(usage.updated_at) if usage else None,
            "path": f"{settings.MAILADMIN_MAIL_BASE}/{mailbox.path}",
            "uid": mailbox.uid,
            "gid": mailbox.gid,
            "panel_login": mailbox.panel_login_enabled,
            "updated": iso(mailbox.updated_at),
        }
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
            ("path", record["path"]),
            ("uid", mailbox.uid if mailbox.uid is not None else "(inherited)"),
            ("gid", mailbox.gid if mailbox.gid is not None else "(inherited)"),
            ("panel login", yes_no(mailbox.panel_login_enabled)),
            ("created", record["created"]),
            ("updated", record["updated"]),
        ]
        self.print_fields(options, record, fields)

    def handle_set(self, options: dict[str, Any]) -> None:
        named = [key for key in ("name", "quota", "uid", "gid") if key in options]
        if not named:
            raise CommandError(
                "name at least one setting to change (see `mailbox set --help`); "
                "nothing was changed"
            )
        mailbox = found(mailbox_get, address=options["address"])
        before = {key: getattr(mailbox, key) for key in named}
        ids = {}
        for key in ("uid", "gid"):
            if key in options:
                ids[key] = options[key]
                ids[f"clear_{key}"] = options[key] is None
        mailbox = services.mailbox_update(
            actor=None,
            mailbox=mailbox,
            name=options.get("name"),
            quota=options.get("quota"),
            **ids,
        )
        changed = changed_settings(before, mailbox, sizes=frozenset({"quota"}))
        if not changed:
            self.stdout.write(f"Nothing changed: {_label(mailbox)} already has these settings.")
            return
        self.stdout.write(f"Changed mailbox {_label(mailbox)}: {', '.join(changed)}.")

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


def _record(mailbox: Mailbox) -> Record:
    """What `list --json` gives per mailbox (`show --json` adds to it): docs/cli.md."""
    return {
        "address": f"{mailbox.local_part}@{mailbox.domain.display_name}",
        "ascii_address": mailbox.address,
        "name": mailbox.name,
        "quota": mailbox.quota,
        "format": mailbox.format,
        "active": mailbox.active,
        "created": iso(mailbox.created_at),
    }


def _label(mailbox: Mailbox) -> str:
    return address_label(mailbox.local_part, mailbox.domain.name)
