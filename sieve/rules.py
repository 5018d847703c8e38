"""The rules of a vacation reply and of a filter rule, as checks of values: the one home of
each message.

Every writer calls these (sieve/services.py, and through it the owners' pages, the admins'
pages, the CLI and the PostfixAdmin migration). Nothing here reads the database: what a check
needs from it (the mailbox's addresses, today's date) is passed in. What the owner may forward
to is the domain's forwarding policy for owners, selfservice.forwarding.clean_forwarding,
which the services apply to a rule's address after these checks.

Errors are keyed by the services' argument names. A value that passes here also renders into
a script Pigeonhole compiles (sieve/script.py): a bad header name or folder would otherwise
break every rule of the mailbox, spam to Junk included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mailadmin.names import normalize_address
from mailadmin.text import describe, unsafe_character
from sieve.models import MAX_DAYS, MIN_DAYS, Action, Condition, FilterRule, Match, Vacation

T = TypeVar("T")

MAX_RULES = 50
MAX_SUBJECT = Vacation._meta.get_field("subject").max_length or 255
MAX_BODY = 10_000
MAX_VALUE = FilterRule._meta.get_field("value").max_length or 255
MAX_HEADER_NAME = FilterRule._meta.get_field("header_name").max_length or 64
MAX_FOLDER = FilterRule._meta.get_field("folder").max_length or 200
# RFC 5322 field-name: printable US-ASCII but the colon. Pigeonhole refuses anything else at
# compile time.
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")
# Dovecot's hierarchy separator is "." (Maildir++) or "/" (mbox, LAYOUT=fs), so both count.
_FOLDER_LEVELS = re.compile(r"[./]")
# IMAP's LIST wildcards: Dovecot refuses them in a folder name.
_FOLDER_WILDCARDS = ("*", "%")


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


class _Errors:
    """The errors of several checks, raised together: a form shows every field's at once."""

    def __init__(self) -> None:
        self.found: dict[str, list[ValidationError]] = {}

    def run(self, check: Callable[[], T], failed: T) -> T:
        """check(), or `failed` when it raises (its errors are kept)."""
        try:
            return check()
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                self.found.setdefault(field, []).extend(errors)
            return failed

    def raise_any(self) -> None:
        if self.found:
            raise ValidationError(self.found)


def _unsafe(value: str, *, allow_newlines: bool = False) -> str | None:
    """A character no Sieve string of ours may hold: controls (mailadmin.text), and lone
    surrogates, which have no UTF-8 form."""
    ch = unsafe_character(value, allow_newlines=allow_newlines)
    if ch is not None:
        return ch
    return next((c for c in value if "\ud800" <= c <= "\udfff"), None)


def _clean_line(value: str, *, field: str, max_length: int, required: str) -> str:
    """One line of text, stripped: present, short enough, no control characters."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise _error(field, required, "required")
    if len(text) > max_length:
        raise _error(
            field,
            ngettext("At most %(n)d character.", "At most %(n)d characters.", max_length)
            % {"n": max_length},
            "too_long",
        )
    ch = _unsafe(text)
    if ch is not None:
        raise _error(
            field,
            _("This text holds a character that is not allowed: %(character)s.")
            % {"character": describe(ch)},
            "unsafe_character",
        )
    return text


# --- the vacation reply -------------------------------------------------------------------------


def clean_subject(value: str) -> str:
    return _clean_line(
        value, field="subject", max_length=MAX_SUBJECT, required=_("Give the reply a subject.")
    )


def clean_body(value: str) -> str:
    """The reply's text, with line breaks as "\\n" and no blank lines around it."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else ""
    if not text:
        raise _error("body", _("Write the text of the reply."), "required")
    if len(text) > MAX_BODY:
        raise _error(
            "body",
            _("The reply can be at most %(n)d characters long.") % {"n": MAX_BODY},
            "too_long",
        )
    ch = _unsafe(text, allow_newlines=True)
    if ch is not None:
        raise _error(
            "body",
            _("This text holds a character that is not allowed: %(character)s.")
            % {"character": describe(ch)},
            "unsafe_character",
        )
    return text


def check_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise _error(
            "days",
            _("Choose a number of days from %(low)d to %(high)d.")
            % {"low": MIN_DAYS, "high": MAX_DAYS},
            "out_of_range",
        )
    return days


def check_dates(start: date | None, end: date | None, *, today: date, enabled: bool) -> None:
    """Both days are inclusive. A reply switched on must still have days to come."""
    if start is not None and end is not None and end < start:
        raise _error("end", _("The last day comes before the first day."), "before_start")
    if enabled and end is not None and end < today:
        raise _error(
            "end",
            _("The last day, %(day)s, has passed.") % {"day": end.isoformat()},
            "past",
        )


def clean_vacation_addresses(values: Iterable[str], *, answerable: list[str]) -> list[str]:
    """The chosen addresses in the order of `answerable` (the mailbox's own addresses,
    sieve.selectors.answerable_addresses); none chosen: all of them (an empty list)."""
    wanted: set[str] = set()
    for value in values:
        if not value.strip():
            continue
        try:
            address = normalize_address(value)
        except ValidationError as exc:
            raise ValidationError({"addresses": exc}) from None
        if address not in answerable:
            raise _error(
                "addresses",
                _("%(address)s is not an address of this mailbox.") % {"address": address},
                "not_own",
            )
        wanted.add(address)
    return [address for address in answerable if address in wanted]


@dataclass(frozen=True)
class VacationFields:
    subject: str
    body: str
    days: int
    start: date | None
    end: date | None
    addresses: list[str]


def clean_vacation(
    *,
    subject: str,
    body: str,
    days: int,
    start: date | None,
    end: date | None,
    addresses: Iterable[str],
    answerable: list[str],
    today: date,
    enabled: bool,
) -> VacationFields:
    """Every rule of a vacation reply; the errors of all fields at once."""
    errors = _Errors()
    fields = VacationFields(
        subject=errors.run(lambda: clean_subject(subject), ""),
        body=errors.run(lambda: clean_body(body), ""),
        days=errors.run(lambda: check_days(days), MIN_DAYS),
        start=start,
        end=end,
        addresses=errors.run(
            lambda: clean_vacation_addresses(addresses, answerable=answerable), []
        ),
    )
    errors.run(lambda: check_dates(start, end, today=today, enabled=enabled), None)
    errors.raise_any()
    return fields


# --- the filter rule ----------------------------------------------------------------------------


def check_room_for_rule(rules: int) -> None:
    """`rules`: how many the mailbox has before this one."""
    if rules >= MAX_RULES:
        raise _error(
            "__all__",
            _("A mailbox can have at most %(n)d filter rules.") % {"n": MAX_RULES},
            "rule_limit",
        )


def clean_header_name(value: str) -> str:
    name = _clean_line(
        value,
        field="header_name",
        max_length=MAX_HEADER_NAME,
        required=_("Name the header, for example List-Id."),
    )
    if not _HEADER_NAME.match(name):
        raise _error(
            "header_name",
            _("A header name is letters, digits and signs such as “-”, without spaces or “:”."),
            "invalid",
        )
    return name


def clean_value(value: str, *, condition: str, match: str) -> str:
    text = _clean_line(
        value, field="value", max_length=MAX_VALUE, required=_("Give the text to look for.")
    )
    if match == Match.IS and condition in (Condition.SENDER, Condition.RECIPIENT):
        local, at, domain = text.rpartition("@")
        if not at or not local or not domain:
            raise _error(
                "value",
                _("“is” compares whole addresses: give one, or choose “contains”."),
                "not_address",
            )
    return text


def clean_folder(value: str) -> str:
    """A folder name Dovecot takes: no control characters or wildcards, no empty level (a
    separator at the start, at the end or twice)."""
    name = _clean_line(value, field="folder", max_length=MAX_FOLDER, required=_("Name the folder."))
    if any(ch in name for ch in _FOLDER_WILDCARDS):
        raise _error("folder", _("A folder name cannot contain “*” or “%”."), "wildcard")
    if "" in _FOLDER_LEVELS.split(name) or name.startswith("~"):
        raise _error(
            "folder",
            _(
                "A folder name cannot start with “~”, nor start, end or repeat "
                "“.” or “/” (they separate folders)."
            ),
            "empty_level",
        )
    return name


def clean_forward_address(value: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise _error("forward_to", _("Give the address to forward to."), "required")
    try:
        return normalize_address(text)
    except ValidationError as exc:
        raise ValidationError({"forward_to": exc}) from None


@dataclass(frozen=True)
class RuleFields:
    condition: str
    header_name: str
    match: str
    value: str
    action: str
    folder: str
    forward_to: str
    keep_copy: bool


def _check_choice(value: str, choices: list[str], field: str, message: str) -> str:
    if value not in choices:
        raise _error(field, message, "invalid_choice")
    return value


def clean_rule(
    *,
    condition: str,
    match: str,
    value: str,
    action: str,
    header_name: str = "",
    folder: str = "",
    forward_to: str = "",
    keep_copy: bool = False,
) -> RuleFields:
    """Every rule of a filter rule; the errors of all fields at once. Fields the condition or
    action does not use are emptied."""
    errors = _Errors()
    condition = errors.run(
        lambda: _check_choice(
            condition,
            Condition.values,
            "condition",
            _("Choose the sender, a recipient, the subject or a header."),
        ),
        "",
    )
    match = errors.run(
        lambda: _check_choice(match, Match.values, "match", _("Choose “contains” or “is”.")), ""
    )
    action = errors.run(
        lambda: _check_choice(
            action,
            Action.values,
            "action",
            _("Choose to file into a folder, forward, discard or mark as read."),
        ),
        "",
    )
    name = ""
    if condition == Condition.HEADER:
        name = errors.run(lambda: clean_header_name(header_name), "")
    text = errors.run(lambda: clean_value(value, condition=condition, match=match), "")
    where = errors.run(lambda: clean_folder(folder), "") if action == Action.FILE_INTO else ""
    target = ""
    if action == Action.FORWARD:
        target = errors.run(lambda: clean_forward_address(forward_to), "")
    errors.raise_any()
    return RuleFields(
        condition=condition,
        header_name=name,
        match=match,
        value=text,
        action=action,
        folder=where,
        forward_to=target,
        keep_copy=bool(keep_copy) and action == Action.FORWARD,
    )


def check_position(position: int, *, rules: int) -> None:
    """A rule moves to 0 (first) ... `rules` - 1 (last)."""
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < rules:
        raise _error(
            "position",
            _("Choose a place from 1 to %(n)d.") % {"n": rules},
            "out_of_range",
        )
