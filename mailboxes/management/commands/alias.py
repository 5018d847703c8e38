from __future__ import annotations

from typing import Any

from domains.selectors import domain_get
from mailadmin.cli import SubcommandCommand, address_label, found, table, yes_no
from mailadmin.names import domain_to_unicode
from mailboxes import services
from mailboxes.models import Alias
from mailboxes.selectors import alias_get, alias_list


class Command(SubcommandCommand):
    help = "Add, list, change and delete aliases; @domain is the domain's catch-all."

    def add_actions(self) -> None:
        add = self.action("add", "Add an alias (ADDRESS may be @domain for a catch-all).")
        add.add_argument("address", metavar="ADDRESS")
        add.add_argument("destinations", metavar="DEST", nargs="+")
        add.add_argument("--description", default="")
        at_mailbox = add.add_mutually_exclusive_group()
        at_mailbox.add_argument(
            "--keep-copy",
            dest="mailbox_copy",
            action="store_const",
            const=True,
            help="ADDRESS is a mailbox's: it keeps a copy of the mail",
        )
        at_mailbox.add_argument(
            "--forward-only",
            dest="mailbox_copy",
            action="store_const",
            const=False,
            help="ADDRESS is a mailbox's: forward only, the mailbox receives nothing",
        )

        listing = self.action("list", "List aliases and their destinations.")
        listing.add_argument("--domain", help="only this domain's aliases")
        listing.add_argument("--search", default="", help="part of the local part or a destination")

        replace = self.action("set", "Replace an alias's destinations.")
        replace.add_argument("address", metavar="ADDRESS")
        replace.add_argument("destinations", metavar="DEST", nargs="+")

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
        rows = [
            (
                f"{a.local_part}@{domain_to_unicode(a.domain.name)}",
                yes_no(a.active),
                ", ".join(d.address for d in a.destinations.all()),
            )
            for a in alias_list(user=None, domain=domain, search=options["search"])
        ]
        if not rows:
            self.stdout.write("No aliases.")
            return
        for line in table(("ADDRESS", "ACTIVE", "DESTINATIONS"), rows):
            self.stdout.write(line)

    def handle_set(self, options: dict[str, Any]) -> None:
        alias = found(alias_get, address=options["address"])
        alias = services.alias_set_destinations(
            actor=None, alias=alias, destinations=options["destinations"]
        )
        self.stdout.write(f"Changed {_describe(alias)}.")

    def handle_delete(self, options: dict[str, Any]) -> None:
        alias = found(alias_get, address=options["address"])
        kind = "catch-all" if alias.is_catchall else "alias"
        services.alias_delete(actor=None, alias=alias)
        self.stdout.write(f"Deleted {kind} {address_label(alias.local_part, alias.domain.name)}.")


def _describe(alias: Alias) -> str:
    kind = "catch-all" if alias.is_catchall else "alias"
    fresh = alias_list(user=None).get(pk=alias.pk)
    destinations = ", ".join(d.address for d in fresh.destinations.all())
    return f"{kind} {address_label(alias.local_part, alias.domain.name)} → {destinations}"
