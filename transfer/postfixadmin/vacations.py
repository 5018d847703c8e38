"""PostfixAdmin's vacation replies (table vacation) as the mailboxes' vacation replies, through
the sieve services, so that each one is checked, audited and published like any other.

PostfixAdmin answers with its vacation.pl script, reached through a copy of the mail to a
`user#domain@autoreply...` alias destination (left out of the aliases, mapping.py); here
Dovecot's Sieve answers, from the mailbox's script. What its columns become:
- `email`: the mailbox (imported now or already here); `active`: on or off;
- `subject`, `body`: the reply (line breaks become plain "\\n");
- `activefrom`, `activeuntil`: the first and last day; PostfixAdmin's defaults for "always"
  (2000-01-01 and 2038-01-18, or earlier and later) become no bound. A reply still on whose
  last day has passed is imported switched off, with a note;
- `interval_time`, seconds between two replies to the same sender: whole days, at least 1 and
  at most sieve.models.MAX_DAYS (noted when it changes); 0, PostfixAdmin's "reply once",
  becomes the most days there are.
A mailbox that already has a vacation reply keeps it (the row is skipped, so a second run
changes nothing); a row that breaks one of the reply's rules is skipped with the rule's reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from mailadmin.names import split_address
from mailboxes.models import Mailbox
from sieve.models import MAX_DAYS, MIN_DAYS, Vacation
from sieve.services import vacation_set
from transfer.postfixadmin.source import PfaData, as_flag, as_text

DAY = 86400
# PostfixAdmin's column defaults, which mean "no bound".
_ALWAYS_FROM = date(2000, 1, 1)
_ALWAYS_UNTIL = date(2038, 1, 18)


@dataclass
class VacationsImported:
    created: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    notes: list[str] = field(default_factory=list)


def as_date(value: Any) -> date | None:
    """A timestamp column as its day; NULL, empty and MySQL's zero date read as None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = as_text(value).strip()
    if not text or text.startswith("0000-00-00"):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def days_of(seconds: int) -> tuple[int, str]:
    """(days between replies, note) for PostfixAdmin's interval_time."""
    if seconds <= 0:
        return MAX_DAYS, (
            f"PostfixAdmin replied once to each sender; here at most once every {MAX_DAYS} days"
        )
    days = math.ceil(seconds / DAY)
    fitted = min(max(days, MIN_DAYS), MAX_DAYS)
    if fitted * DAY != seconds:
        return fitted, f"interval of {seconds} seconds becomes {fitted} days"
    return fitted, ""


def _mailbox(email: str) -> Mailbox | None:
    try:
        local_part, domain = split_address(email)
    except ValidationError:
        return None
    return (
        Mailbox.objects.select_related("domain")
        .filter(domain__name=domain, local_part=local_part)
        .first()
    )


def import_vacations(data: PfaData, *, actor_label: str) -> VacationsImported:
    result = VacationsImported()
    today = timezone.localdate()
    for row in data.rows("vacation"):
        email = as_text(row.get("email")).strip()
        what = f"vacation {email}"
        mailbox = _mailbox(email)
        if mailbox is None:
            result.skipped.append((what, "no such mailbox here (it was not imported)"))
            continue
        if Vacation.objects.filter(mailbox=mailbox).exists():
            result.skipped.append((what, "the mailbox has a vacation reply here; left as it is"))
            continue
        start = as_date(row.get("activefrom"))
        end = as_date(row.get("activeuntil"))
        start = None if start is None or start <= _ALWAYS_FROM else start
        end = None if end is None or end >= _ALWAYS_UNTIL else end
        enabled = as_flag(row.get("active", True))
        notes = []
        if enabled and end is not None and end < today:
            enabled = False
            notes.append(f"its last day, {end.isoformat()}, has passed: imported switched off")
        days, note = days_of(int(row.get("interval_time") or 0))
        if note:
            notes.append(note)
        try:
            vacation_set(
                actor=None,
                mailbox=mailbox,
                subject=as_text(row.get("subject")),
                body=as_text(row.get("body")),
                days=days,
                start=start,
                end=end,
                enabled=enabled,
                actor_label=actor_label,
            )
        except ValidationError as exc:
            result.skipped.append((what, " ".join(exc.messages)))
            continue
        result.created += 1
        result.notes.extend(f"{what}: {note}" for note in notes)
    return result
