from __future__ import annotations

from typing import Any

from domains import services
from domains.selectors import (
    alias_domain_get,
    alias_domain_grant_by_name,
    alias_domain_grants_all,
    alias_domains_visible_to,
    domain_get,
)
from mailadmin.cli import SubcommandCommand, domain_label, found, iso, yes_no
from mailadmin.names import domain_to_unicode


class Command(SubcommandCommand):
    help = (
        "Add, list, enable, disable and delete alias domains (ALIAS receives mail for "
        "TARGET's addresses)."
    )

    def add_actions(self) -> None:
        add = self.action("add", "Make ALIAS an alias domain of the hosted domain TARGET.")
        add.add_argument("alias", metavar="ALIAS")
        add.add_argument("target", metavar="TARGET")
        self.action("list", "List alias domains and their targets.", json_output=True)
        self.action("enable", "Let an alias domain receive mail again.").add_argument(
            "alias", metavar="ALIAS"
        )
        self.action(
            "disable", "Stop an alias domain receiving mail (nothing is deleted)."
        ).add_argument("alias", metavar="ALIAS")
        self.action("delete", "Delete an alias domain (its target is untouched).").add_argument(
            "alias", metavar="ALIAS"
        )
        allow = self.action("allow", "Let the admins of TARGET add ALIAS as its alias domain.")
        allow.add_argument("alias", metavar="ALIAS")
        allow.add_argument("target", metavar="TARGET")
        self.action("disallow", "Withdraw what `allow` granted.").add_argument(
            "alias", metavar="ALIAS"
        )
        self.action(
            "allowed", "List the names domain admins may add as alias domains.", json_output=True
        )

    def handle_add(self, options: dict[str, Any]) -> None:
        alias_domain = services.alias_domain_create(
            actor=None, name=options["alias"], target=options["target"]
        )
        self.stdout.write(
            f"Created alias domain {domain_label(alias_domain.name)} → "
            f"{domain_label(alias_domain.target.name)}."
        )

    def handle_list(self, options: dict[str, Any]) -> None:
        records = (
            {
                "name": a.display_name,
                "ascii_name": a.name,
                "target": a.target.display_name,
                "ascii_target": a.target.name,
                "active": a.active,
                "created": iso(a.created_at),
            }
            for a in alias_domains_visible_to(None).order_by("name")
        )
        columns = (
            ("NAME", lambda r: r["name"]),
            ("A-LABEL", lambda r: r["ascii_name"]),
            ("TARGET", lambda r: r["target"]),
            ("ACTIVE", lambda r: yes_no(bool(r["active"]))),
        )
        self.print_records(options, records, columns, empty="No alias domains.")

    def handle_enable(self, options: dict[str, Any]) -> None:
        alias_domain = found(alias_domain_get, name=options["alias"])
        services.alias_domain_set_active(actor=None, alias_domain=alias_domain, active=True)
        self.stdout.write(f"Enabled alias domain {domain_label(alias_domain.name)}.")

    def handle_disable(self, options: dict[str, Any]) -> None:
        alias_domain = found(alias_domain_get, name=options["alias"])
        services.alias_domain_set_active(actor=None, alias_domain=alias_domain, active=False)
        self.stdout.write(
            f"Disabled alias domain {domain_label(alias_domain.name)}: it receives no mail "
            f"for {domain_label(alias_domain.target.name)}'s addresses until enabled."
        )

    def handle_delete(self, options: dict[str, Any]) -> None:
        alias_domain = found(alias_domain_get, name=options["alias"])
        services.alias_domain_delete(actor=None, alias_domain=alias_domain)
        self.stdout.write(f"Deleted alias domain {domain_label(alias_domain.name)}.")

    def handle_allow(self, options: dict[str, Any]) -> None:
        target = found(domain_get, name=options["target"])
        grant = services.alias_domain_grant_create(actor=None, name=options["alias"], domain=target)
        self.stdout.write(
            f"The admins of {domain_label(target.name)} may now add "
            f"{domain_label(grant.name)} as an alias domain."
        )

    def handle_disallow(self, options: dict[str, Any]) -> None:
        grant = found(alias_domain_grant_by_name, name=options["alias"])
        services.alias_domain_grant_delete(actor=None, grant=grant)
        self.stdout.write(f"{domain_label(grant.name)} is no longer allowed.")

    def handle_allowed(self, options: dict[str, Any]) -> None:
        records = (
            {
                "name": domain_to_unicode(name),
                "ascii_name": name,
                "domain": domain_to_unicode(domain),
                "ascii_domain": domain,
                "added": in_use,
            }
            for name, domain, in_use in alias_domain_grants_all()
        )
        columns = (
            ("NAME", lambda r: domain_label(str(r["ascii_name"]))),
            ("FOR", lambda r: domain_label(str(r["ascii_domain"]))),
            ("ADDED", lambda r: yes_no(bool(r["added"]))),
        )
        self.print_records(options, records, columns, empty="No names allowed.")
