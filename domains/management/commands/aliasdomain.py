from __future__ import annotations

from typing import Any

from domains import services
from domains.selectors import alias_domain_get, alias_domains_visible_to
from mailadmin.cli import SubcommandCommand, domain_label, found, table, yes_no


class Command(SubcommandCommand):
    help = "Add, list and delete alias domains (ALIAS receives mail for TARGET's addresses)."

    def add_actions(self) -> None:
        add = self.action("add", "Make ALIAS an alias domain of the hosted domain TARGET.")
        add.add_argument("alias", metavar="ALIAS")
        add.add_argument("target", metavar="TARGET")
        self.action("list", "List alias domains and their targets.")
        self.action("delete", "Delete an alias domain (its target is untouched).").add_argument(
            "alias", metavar="ALIAS"
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
        rows = [
            (a.display_name, a.name, a.target.display_name, yes_no(a.active))
            for a in alias_domains_visible_to(None).order_by("name")
        ]
        if not rows:
            self.stdout.write("No alias domains.")
            return
        for line in table(("NAME", "A-LABEL", "TARGET", "ACTIVE"), rows):
            self.stdout.write(line)

    def handle_delete(self, options: dict[str, Any]) -> None:
        alias_domain = found(alias_domain_get, name=options["alias"])
        services.alias_domain_delete(actor=None, alias_domain=alias_domain)
        self.stdout.write(f"Deleted alias domain {domain_label(alias_domain.name)}.")
