from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from django.core.management.base import CommandError

from mailadmin.cli import Record, SubcommandCommand, address_label, found, iso, yes_no
from mailboxes.models import Mailbox
from mailboxes.selectors import mailbox_get
from sieve import services
from sieve.models import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, Vacation
from sieve.selectors import answerable_addresses, vacation_of


def _day(text: str) -> date:
    """argparse type of --start and --end: an ISO date."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-07-31") from None


class Command(SubcommandCommand):
    help = "Set, switch off and show a mailbox's vacation reply."
    field_labels = {"addresses": "--address", "end": "--end", "days": "--days", "body": "body"}

    def add_actions(self) -> None:
        put = self.action(
            "set", "Set and switch on the vacation reply; its text is read from stdin."
        )
        put.add_argument("address", metavar="ADDRESS")
        put.add_argument("--subject", required=True, help="the reply's subject")
        put.add_argument(
            "--body-stdin",
            action="store_true",
            required=True,
            help="read the reply's text from stdin (up to its end)",
        )
        put.add_argument(
            "--days",
            type=int,
            default=DEFAULT_DAYS,
            help=f"days between two replies to the same sender, {MIN_DAYS} to {MAX_DAYS} "
            f"(default {DEFAULT_DAYS})",
        )
        put.add_argument("--start", type=_day, help="first day, e.g. 2025-07-01 (default: now)")
        put.add_argument("--end", type=_day, help="last day, e.g. 2025-07-31 (default: none)")
        put.add_argument(
            "--address",
            dest="addresses",
            action="append",
            default=[],
            metavar="ADDRESS",
            help="answer only mail to this address of the mailbox (repeatable; default: all)",
        )
        self.action("off", "Switch the vacation reply off; its text is kept.").add_argument(
            "address", metavar="ADDRESS"
        )
        self.action("show", "Show the vacation reply.", json_output=True).add_argument(
            "address", metavar="ADDRESS"
        )

    def handle_set(self, options: dict[str, Any]) -> None:
        mailbox = found(mailbox_get, address=options["address"])
        body = self.stdin.read()
        if not body.strip():
            raise CommandError("--body-stdin: no text on stdin; nothing was changed")
        vacation = services.vacation_set(
            actor=None,
            mailbox=mailbox,
            subject=options["subject"],
            body=body,
            days=options["days"],
            start=options["start"],
            end=options["end"],
            addresses=options["addresses"],
        )
        self.stdout.write(f"Vacation reply of {_label(mailbox)} is on {_window(vacation)}.")

    def handle_off(self, options: dict[str, Any]) -> None:
        mailbox = found(mailbox_get, address=options["address"])
        vacation = services.vacation_off(actor=None, mailbox=mailbox)
        if vacation is None:
            self.stdout.write(f"{_label(mailbox)} has no vacation reply; nothing to switch off.")
            return
        self.stdout.write(f"Vacation reply of {_label(mailbox)} is off (its text is kept).")

    def handle_show(self, options: dict[str, Any]) -> None:
        mailbox = found(mailbox_get, address=options["address"])
        vacation = vacation_of(mailbox)
        if options["json"]:
            self.stdout.write(json.dumps(_record(mailbox, vacation), ensure_ascii=False, indent=2))
            return
        if vacation is None:
            self.stdout.write(f"{_label(mailbox)} has no vacation reply.")
            return
        chosen = list(vacation.addresses)
        answers = ", ".join(chosen or answerable_addresses(mailbox))
        lines = [
            f"Vacation reply of {_label(mailbox)}",
            f"on:         {yes_no(vacation.enabled)}",
            f"first day:  {vacation.start.isoformat() if vacation.start else '-'}",
            f"last day:   {vacation.end.isoformat() if vacation.end else '-'}",
            f"days:       {vacation.days} between two replies to the same sender",
            f"answers:    {answers}{'' if chosen else ' (all of its addresses)'}",
            f"subject:    {vacation.subject}",
            "",
            vacation.body,
        ]
        for line in lines:
            self.stdout.write(line)


def _record(mailbox: Mailbox, vacation: Vacation | None) -> Record:
    """`show --json`: docs/cli.md. `vacation` null when the mailbox never had a reply."""
    record: Record = {
        "address": f"{mailbox.local_part}@{mailbox.domain.display_name}",
        "ascii_address": mailbox.address,
    }
    if vacation is None:
        return record | {"vacation": None}
    chosen = list(vacation.addresses)
    return record | {
        "vacation": {
            "enabled": vacation.enabled,
            "start": iso(vacation.start),
            "end": iso(vacation.end),
            "days": vacation.days,
            "addresses": chosen,
            "answers": chosen or list(answerable_addresses(mailbox)),
            "subject": vacation.subject,
            "body": vacation.body,
        }
    }


def _label(mailbox: Mailbox) -> str:
    return address_label(mailbox.local_part, mailbox.domain.name)


def _window(vacation: Vacation) -> str:
    start = vacation.start.isoformat() if vacation.start else "now"
    end = vacation.end.isoformat() if vacation.end else "it is switched off"
    return f"from {start} until {end}"
