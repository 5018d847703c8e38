from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError

from domains import relay, services
from domains.selectors import domain_get, relay_recipient_by_local_part, relay_recipient_list
from mailadmin.cli import SubcommandCommand, address_label, domain_label, found, plural
from mailadmin.names import domain_to_unicode


class Command(SubcommandCommand):
    help = "List, add and delete the recipients a relay or backup-MX domain accepts mail for."
    field_labels = {"local_part": "local part"}

    def add_actions(self) -> None:
        add = self.action("add", "Accept mail for LOCAL@DOMAIN (one or more local parts).")
        add.add_argument("domain", metavar="DOMAIN")
        add.add_argument("local_parts", metavar="LOCAL", nargs="+")
        delete = self.action("delete", "Refuse mail for LOCAL@DOMAIN from now on.")
        delete.add_argument("domain", metavar="DOMAIN")
        delete.add_argument("local_parts", metavar="LOCAL", nargs="+")
        self.action("list", "List a domain's relay recipients.", json_output=True).add_argument(
            "domain", metavar="DOMAIN"
        )
        self.action(
            "replace",
            "Make the list exactly the local parts read from stdin, one a line.",
        ).add_argument("domain", metavar="DOMAIN")
        accept = self.action(
            "accept-any",
            "yes: accept mail for every address of DOMAIN (the next hop bounces unknown ones "
            "later: backscatter); no: only the listed recipients.",
        )
        accept.add_argument("domain", metavar="DOMAIN")
        accept.add_argument("value", metavar="yes|no", choices=["yes", "no"])

    def _domain(self, options: dict[str, Any]) -> Any:
        domain = found(domain_get, name=options["domain"])
        relay.check_relay_domain(domain)
        return domain

    def handle_add(self, options: dict[str, Any]) -> None:
        domain = self._domain(options)
        for local_part in options["local_parts"]:
            recipient = relay.relay_recipient_add(actor=None, domain=domain, local_part=local_part)
            self.stdout.write(
                f"Accepting mail for {address_label(recipient.local_part, domain.name)}."
            )

    def handle_delete(self, options: dict[str, Any]) -> None:
        domain = self._domain(options)
        recipients = [
            relay_recipient_by_local_part(user=None, domain=domain, local_part=local_part)
            for local_part in options["local_parts"]
        ]
        for recipient in recipients:
            relay.relay_recipient_delete(actor=None, recipient=recipient)
            self.stdout.write(
                f"Refusing mail for {address_label(recipient.local_part, domain.name)}."
            )

    def handle_list(self, options: dict[str, Any]) -> None:
        domain = self._domain(options)
        rows = relay_recipient_list(user=None, domain=domain).values_list("local_part", flat=True)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "domain": domain_to_unicode(domain.name),
                        "ascii_domain": domain.name,
                        "accept_any": domain.relay_accept_any,
                        "recipients": list(rows.iterator()),
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        if domain.relay_accept_any:
            self.stdout.write(
                f"{domain_label(domain.name)} accepts every recipient (accept-any yes)."
            )
        count = 0
        for local_part in rows.iterator():
            self.stdout.write(address_label(local_part, domain.name))
            count += 1
        if not count:
            self.stdout.write("No relay recipients.")

    def handle_replace(self, options: dict[str, Any]) -> None:
        domain = self._domain(options)
        local_parts = [line.strip() for line in self.stdin if line.strip()]
        if not local_parts and not domain.relay_accept_any:
            raise CommandError(
                "nothing on stdin: an empty list would refuse all mail for the domain; "
                "delete the recipients one by one if that is meant"
            )
        result = relay.relay_recipients_replace(actor=None, domain=domain, local_parts=local_parts)
        self.stdout.write(
            f"{domain_label(domain.name)}: {plural(result['added'], 'recipient', 'recipients')} "
            f"added, {result['removed']} removed."
        )

    def handle_accept_any(self, options: dict[str, Any]) -> None:
        domain = self._domain(options)
        value = options["value"] == "yes"
        services.domain_update(actor=None, domain=domain, relay_accept_any=value)
        if value:
            self.stdout.write(
                f"{domain_label(domain.name)} accepts every recipient; unknown ones bounce later."
            )
        else:
            self.stdout.write(f"{domain_label(domain.name)} accepts only its relay recipients.")
