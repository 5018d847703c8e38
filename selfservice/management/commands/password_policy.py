from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from selfservice.models import PasswordPolicy
from selfservice.services import password_policy_update


def _on_off(value: str) -> bool:
    if value not in {"on", "off"}:
        raise ValueError(value)
    return value == "on"


class Command(BaseCommand):
    help = "Show or set the password policy for mailbox owners' own password changes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--min-length", type=int, help="minimum length (8 to 128)")
        parser.add_argument(
            "--forbid-address", type=_on_off, metavar="on|off", help="refuse the address"
        )
        parser.add_argument(
            "--forbid-common", type=_on_off, metavar="on|off", help="refuse common passwords"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        policy = PasswordPolicy.load()
        wanted = {
            "min_length": options["min_length"],
            "forbid_address": options["forbid_address"],
            "forbid_common": options["forbid_common"],
        }
        if any(value is not None for value in wanted.values()):
            try:
                policy = password_policy_update(
                    actor=None,
                    min_length=policy.min_length
                    if wanted["min_length"] is None
                    else wanted["min_length"],
                    forbid_address=policy.forbid_address
                    if wanted["forbid_address"] is None
                    else wanted["forbid_address"],
                    forbid_common=policy.forbid_common
                    if wanted["forbid_common"] is None
                    else wanted["forbid_common"],
                )
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
        on = {True: "on", False: "off"}
        self.stdout.write(
            f"min-length {policy.min_length}, forbid-address {on[policy.forbid_address]}, "
            f"forbid-common {on[policy.forbid_common]}"
        )
