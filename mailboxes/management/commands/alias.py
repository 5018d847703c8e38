from __future__ import annotations

from typing import Any

from domains.selectors import domain_get
from mailadmin.cli import (
    Record,
    SubcommandCommand,
    add_choice_flags,
    address_label,
    found,
    iso,
    yes_no,
)
from mailadmin.names import domain_to_unicode
from mailboxes import services
from mailboxes.models import Alias
from mailboxes.selectors import alias_get, alias_list


class Command(SubcommandCommand):
    help = (
        "Add, list, show, change, enable, disable and delete aliases; @domain is the "
        "domain's catch-all."
    )

    def add_actions(self) -> None:
        add = self.action("add", "Add an alias (ADDRESS may be @domain for a catch-all).")
        add.add_argument("address", metavar="ADDRESS")
        add.add_argument("destinations", metavar="DEST", nargs="+")
        add.add_argument("--description", default="")
        add_choice_flags(
            add,
            "mailbox_copy",
            ("--keep-copy", "ADDRESS is a mailbox's: it keeps a copy of the mail"),
            (
                "--forward-only",
                "ADDRESS is a mailbox's: forward only, the mailbox receives nothing",
            ),
        )

        listing = self.action("list", "List aliases and their destinations.", json_output=True)
        listing.add_argument("--domain", help="only this domain's aliases")
        listing.add_argument("--search", default="", help="part of the local part or a destination")

        self.action("show", "Show an alias and its destinations.", json_output=True).add_argument(
            "address", metavar="ADDRESS"
        )

        replace = self.action("set", "Replace an alias's destinations.")
        replace.add_argument("address", metavar="ADDRESS")
        replace.add_argument("destinations", metavar="DEST", nargs="+")

        self.action("enable", "Let an alias forward mail again.").add_argument(
            "address", metavar="ADDRESS"
        )
        self.action(
            "disable", "Stop an alias forwarding mail (its destinations are kept)."
        ).add_argument("address", metavar="ADDRESS")
        self.action("delete", "Delete an alias.").add_argument("address", metavar="ADDRESS")

    def handle_add(self, options: dict[str, Any]) -> None:
        alias = services.alias_create(
            actor=None,
            address=options["address"],
            destinations=options["destinations"],
            description=options["description"],
            mailbox_copy=options["mailbox_copy"],
        )
        self.stdout.write(f"Created {_describe(alias)}.")

    def handle_list(self, options: dict[str, Any]) -> None:
        domain = found(domain_get, name=options["domain"]) if options["domain"] else None
        aliases = alias_list(user=None, domain=domain, search=options["search"])
        columns = (
            ("ADDRESS", lambda r: r["address"]),
            ("ACTIVE", lambda r: yes_no(bool(r["active"]))),
            ("DESTINATIONS", lambda r: ", ".join(r["destinations"])),
        )
        # iterator() with a chunk size keeps the prefetch of the destinations, per chunk.
        records = (_record(a) for a in aliases.iterator(chunk_size=2000))
        self.print_records(options, records, columns, empty="No aliases.")

    def handle_show(self, options: dict[str, Any]) -> None:
        alias = alias_list(user=None).get(pk=found(alias_get, address=options["address"]).pk)
        record = _record(alias) | {"updated": iso(alias.updated_at)}
        fields = [
            ("address", address_label(alias.local_part, alias.domain.name)),
            ("catch-all", yes_no(alias.is_catchall)),
            ("active", yes_no(alias.active)),
            ("description", alias.description or "-"),
            ("destinations", ", ".join(record["destinations"])),
            ("created", record["created"]),
            ("updated", record["updated"]),
        ]
        self.print_fields(options, record, fields)

    def handle_set(self, options: dict[str, Any]) -> None:
        alias = found(alias_get, address=options["address"])
        alias = services.alias_set_destinations(
            actor=None, alias=alias, destinations=options["destinations"]
        )
        self.stdout.write(f"Changed {_describe(alias)}.")

    def handle_enable(self, options: dict[str, Any]) -> None:
        alias = found(alias_get, address=options["address"])
        alias = services.alias_set_active(actor=None, alias=alias, active=True)
        self.stdout.write(f"Enabled {_describe(alias)}.")

    def handle_disable(self, options: dict[str, Any]) -> None:
        alias = found(alias_get, address=options["address"])
        services.alias_set_active(actor=None, alias=alias, active=False)
        self.stdout.write(
            f"Disabled {_kind(alias)} {address_label(alias.local_part, alias.domain.name)}: "
            "it forwards nothing until enabled."
        )

    def handle_delete(self, options: dict[str, Any]) -> None:
        alias = found(alias_get, address=options["address"])
        services.alias_delete(actor=None, alias=alias)
        self.stdout.write(
            f"Deleted {_kind(alias)} {address_label(alias.local_part, alias.domain.name)}."
        )


def _record(alias: Alias) -> Record:
    """What `list --json` gives per alias (`show --json` adds to it): docs/cli.md. The
    destinations were prefetched by alias_list."""
    return {
        "address": f"{alias.local_part}@{domain_to_unicode(alias.domain.name)}",
        "ascii_address": alias.address,
        "catchall": alias.is_catchall,
        "active": alias.active,
        "description": alias.description,
        "destinations": [d.address for d in alias.destinations.all()],
        "created": iso(alias.created_at),
    }


def _kind(alias: Alias) -> str:
    return "catch-all" if alias.is_catchall else "alias"


def _describe(alias: Alias) -> str:
    fresh = alias_list(user=None).get(pk=alias.pk)
    destinations = ", ".join(d.address for d in fresh.destinations.all())
    return f"{_kind(alias)} {address_label(alias.local_part, alias.domain.name)} → {destinations}"
