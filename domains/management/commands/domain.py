from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from domains import services
from domains.limits import SIZE_FIELDS, limits_below_use
from domains.models import Delivery, Domain, ServerSettings
from domains.selectors import alias_domains_visible_to, domain_get, domain_list, usage_drift
from mailadmin.cli import (
    Record,
    SubcommandCommand,
    add_owner_id_options,
    changed_settings,
    domain_label,
    found,
    iso,
    plural,
    size,
    yes_no,
)
from mailadmin.sizes import format_size

# `domain set` option -> the domain_update field it changes.
SETTABLE = {
    "description": "description",
    "delivery": "delivery",
    "transport": "transport",
    "uid": "uid",
    "gid": "gid",
    "max_mailboxes": "max_mailboxes",
    "max_aliases": "max_aliases",
    "max_quota": "max_mailbox_quota",
    "total_quota": "total_quota",
    "default_quota": "default_mailbox_quota",
}


class Command(SubcommandCommand):
    help = "Add, list, show, change, enable, disable and delete mail domains."
    field_labels = {"max_mailbox_quota": "max-quota", "default_mailbox_quota": "default-quota"}

    def add_actions(self) -> None:
        add = self.action("add", "Add a domain (IDN names are accepted).")
        add.add_argument("name", metavar="NAME")
        add.add_argument("--description", default="")
        add.add_argument("--delivery", choices=Delivery.values, default=Delivery.HOSTED)
        add.add_argument("--transport", default="", help="next hop, e.g. smtp:[mx.example.net]:25")
        add.add_argument("--uid", type=int, help="owner of delivered mail (default: server's)")
        add.add_argument("--gid", type=int, help="group of delivered mail (default: server's)")
        add.add_argument("--max-mailboxes", type=int, default=0, help="0: no limit")
        add.add_argument("--max-aliases", type=int, default=0, help="0: no limit")
        add.add_argument("--max-quota", type=size, default=0, help="per mailbox, e.g. 2G")
        add.add_argument("--total-quota", type=size, default=0, help="for all mailboxes")
        add.add_argument(
            "--default-quota",
            type=size,
            default=0,
            help="a new mailbox's quota when none is given (default: the max quota)",
        )

        listing = self.action(
            "list", "List domains with their mailbox and alias counts.", json_output=True
        )
        listing.add_argument("--search", default="", help="part of the name or description")

        self.action(
            "show", "Show a domain's settings, limits and counts.", json_output=True
        ).add_argument("name", metavar="NAME")

        # SUPPRESS: an option not given is absent, so that only the named settings change.
        change = self.action("set", "Change a domain's settings; those not named stay as they are.")
        change.add_argument("name", metavar="NAME")
        change.add_argument("--description", default=argparse.SUPPRESS)
        change.add_argument("--delivery", choices=Delivery.values, default=argparse.SUPPRESS)
        change.add_argument(
            "--transport", default=argparse.SUPPRESS, help="next hop; '' for Postfix's default"
        )
        add_owner_id_options(change, inherited_from="the server's")
        change.add_argument(
            "--max-mailboxes", type=int, default=argparse.SUPPRESS, help="0: no limit"
        )
        change.add_argument(
            "--max-aliases", type=int, default=argparse.SUPPRESS, help="0: no limit"
        )
        change.add_argument(
            "--max-quota", type=size, default=argparse.SUPPRESS, help="per mailbox, e.g. 2G"
        )
        change.add_argument(
            "--total-quota", type=size, default=argparse.SUPPRESS, help="for all mailboxes"
        )
        change.add_argument(
            "--default-quota",
            type=size,
            default=argparse.SUPPRESS,
            help="a new mailbox's quota when none is given; 0: the max quota",
        )
        self.action("enable", "Let a domain receive mail again.").add_argument(
            "name", metavar="NAME"
        )
        self.action("disable", "Stop a domain receiving mail (nothing is deleted).").add_argument(
            "name", metavar="NAME"
        )
        delete = self.action("delete", "Delete a domain with its mailboxes and aliases.")
        delete.add_argument("name", metavar="NAME")
        delete.add_argument("--yes", action="store_true", help="do not ask")
        self.action(
            "check-usage",
            "Recount every domain's mailboxes, aliases and allocated quota and compare them "
            "with the counters the panel shows (kept by database triggers).",
        )

    def handle_add(self, options: dict[str, Any]) -> None:
        domain = services.domain_create(
            actor=None,
            name=options["name"],
            description=options["description"],
            delivery=options["delivery"],
            transport=options["transport"],
            max_mailboxes=options["max_mailboxes"],
            max_aliases=options["max_aliases"],
            max_mailbox_quota=options["max_quota"],
            total_quota=options["total_quota"],
            default_mailbox_quota=options["default_quota"],
            uid=options["uid"],
            gid=options["gid"],
        )
        self.stdout.write(f"Created {domain.delivery} domain {domain_label(domain.name)}.")

    def handle_list(self, options: dict[str, Any]) -> None:
        records = (_record(domain) for domain in domain_list(user=None, search=options["search"]))
        columns = (
            ("NAME", lambda r: r["name"]),
            ("A-LABEL", lambda r: r["ascii_name"]),
            ("DELIVERY", lambda r: r["delivery"]),
            ("ACTIVE", lambda r: yes_no(bool(r["active"]))),
            ("MAILBOXES", lambda r: r["mailboxes"]),
            ("ALIASES", lambda r: r["aliases"]),
        )
        self.print_records(options, records, columns, empty="No domains.")

    def handle_show(self, options: dict[str, Any]) -> None:
        domain = self._annotated(options["name"])
        server = ServerSettings.load()
        record = _record(domain) | {
            "uid": domain.uid,
            "gid": domain.gid,
            "effective_uid": domain.uid if domain.uid is not None else server.default_uid,
            "effective_gid": domain.gid if domain.gid is not None else server.default_gid,
            "quota_allocated": domain.quota_allocated,  # type: ignore[attr-defined]
            "alias_domains": [a.name for a in alias_domains_visible_to(None).filter(target=domain)],
            "admins": [u.get_username() for u in domain.admins.all()],
            "mail_base": f"{settings.MAILADMIN_MAIL_BASE}/{domain.name}/",
            "updated": iso(domain.updated_at),
        }
        total = domain.total_quota
        fields = [
            ("name", domain.display_name),
            ("a-label", domain.name),
            ("description", domain.description or "-"),
            ("active", yes_no(domain.active)),
            ("delivery", domain.get_delivery_display()),
            ("transport", domain.transport or "(Postfix default)"),
            ("uid", domain.uid if domain.uid is not None else f"{server.default_uid} (server)"),
            ("gid", domain.gid if domain.gid is not None else f"{server.default_gid} (server)"),
            ("mailboxes", _used_of(record["mailboxes"], domain.max_mailboxes)),
            ("aliases", _used_of(record["aliases"], domain.max_aliases)),
            ("max quota", format_size(domain.max_mailbox_quota) + " per mailbox"),
            (
                "default quota",
                format_size(domain.default_mailbox_quota)
                if domain.default_mailbox_quota
                else "the max quota",
            ),
            (
                "total quota",
                f"{format_size(total)} ({format_size(record['quota_allocated'])} assigned)"
                if total
                else format_size(0),
            ),
            ("alias domains", ", ".join(_unicode(record["alias_domains"])) or "-"),
            ("admins", ", ".join(record["admins"]) or "-"),
            ("mail base", record["mail_base"]),
            ("created", record["created"]),
            ("updated", record["updated"]),
        ]
        self.print_fields(options, record, fields)

    def handle_set(self, options: dict[str, Any]) -> None:
        changes = {
            field: options[option] for option, field in SETTABLE.items() if option in options
        }
        if not changes:
            raise CommandError(
                "name at least one setting to change (see `domain set --help`); nothing was changed"
            )
        domain = found(domain_get, name=options["name"])
        before = {field: getattr(domain, field) for field in changes}
        domain = services.domain_update(actor=None, domain=domain, **changes)
        changed = changed_settings(before, domain, sizes=SIZE_FIELDS)
        label = domain_label(domain.name)
        if not changed:
            self.stdout.write(f"Nothing changed: {label} already has these settings.")
            return
        self.stdout.write(f"Changed domain {label}: {', '.join(changed)}.")
        for warning in limits_below_use(domain):
            self.stderr.write(f"warning: {warning}")

    def handle_enable(self, options: dict[str, Any]) -> None:
        domain = found(domain_get, name=options["name"])
        services.domain_set_active(actor=None, domain=domain, active=True)
        self.stdout.write(f"Enabled domain {domain_label(domain.name)}.")

    def handle_disable(self, options: dict[str, Any]) -> None:
        domain = found(domain_get, name=options["name"])
        services.domain_set_active(actor=None, domain=domain, active=False)
        self.stdout.write(
            f"Disabled domain {domain_label(domain.name)}: it receives no mail and its "
            "mailboxes cannot log in."
        )

    def handle_delete(self, options: dict[str, Any]) -> None:
        domain = self._annotated(options["name"])
        contents = _contents(
            domain.mailbox_count,  # type: ignore[attr-defined]
            domain.alias_count,  # type: ignore[attr-defined]
            alias_domains_visible_to(None).filter(target=domain).count(),
        )
        label = domain_label(domain.name)
        if not options["yes"]:
            self.confirm(
                f"Delete {label} with {contents}?",
                refusal=f"{label} has {contents}; deleting the domain deletes them too. "
                "Run again with --yes to do it.",
            )
        deleted = services.domain_delete(actor=None, domain=domain)
        gone = _contents(
            deleted.get("mailboxes.Mailbox", 0),
            deleted.get("mailboxes.Alias", 0),
            deleted.get("domains.AliasDomain", 0),
        )
        self.stdout.write(
            f"Deleted domain {label} with {gone}. Its mail under "
            f"{settings.MAILADMIN_MAIL_BASE}/{domain.name}/ is left on disk."
        )

    def handle_check_usage(self, options: dict[str, Any]) -> None:
        drifted = usage_drift()
        if drifted:
            raise CommandError(
                f"{plural(len(drifted), 'domain', 'domains')} whose counters differ from a "
                f"recount: {', '.join(domain_label(name) for name in drifted)}. The triggers of "
                "migration domains/0006 are missing or were bypassed (TRUNCATE, a foreign key's "
                "own ON DELETE CASCADE on MariaDB). With the panel stopped, `manage.py migrate "
                "domains 0005` then `manage.py migrate` rebuilds them and recounts."
            )
        self.stdout.write("Every domain's counters match a recount.")

    def _annotated(self, name: str) -> Domain:
        """The domain with the mailbox_count and alias_count annotations of domain_list."""
        domain = found(domain_get, name=name)
        try:
            return domain_list(user=None).get(pk=domain.pk)
        except Domain.DoesNotExist:
            raise CommandError(f"no such domain: {name}") from None


def _record(domain: Domain) -> Record:
    """What `list --json` gives per domain (`show --json` adds to it): docs/cli.md."""
    return {
        "name": domain.display_name,
        "ascii_name": domain.name,
        "description": domain.description,
        "delivery": domain.delivery,
        "transport": domain.transport,
        "active": domain.active,
        "mailboxes": domain.mailbox_count,  # type: ignore[attr-defined]
        "aliases": domain.alias_count,  # type: ignore[attr-defined]
        "max_mailboxes": domain.max_mailboxes,
        "max_aliases": domain.max_aliases,
        "max_mailbox_quota": domain.max_mailbox_quota,
        "total_quota": domain.total_quota,
        "default_mailbox_quota": domain.default_mailbox_quota,
        "created": iso(domain.created_at),
    }


def _unicode(ascii_names: object) -> list[str]:
    return [domain_label(name) for name in ascii_names]  # type: ignore[attr-defined]


def _used_of(used: object, limit: int) -> str:
    return f"{used} of {limit}" if limit else f"{used} (no limit)"


def _contents(mailboxes: int, aliases: int, alias_domains: int) -> str:
    return (
        f"{plural(mailboxes, 'mailbox', 'mailboxes')}, {plural(aliases, 'alias', 'aliases')} "
        f"and {plural(alias_domains, 'alias domain', 'alias domains')}"
    )
