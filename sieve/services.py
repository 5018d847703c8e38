"""Writes of a mailbox's vacation reply, filter rules and spam setting, and the script they make.

Who writes: an admin (`actor`, scoped like every mailbox write: a mailbox outside their
domains is not found), the operator's CLI (actor None), or the mailbox's owner (actor None
and `by_owner`, with the mailbox their session names: selfservice). The audit names the owner
by address, the import by its label (`actor_label`).

Each write locks the mailbox row first, checks with sieve/rules.py, writes, audits, and then
publishes: the mailbox's script is rendered again (sieve/script.py) and stored in SieveScript
under a new data id, or its row deleted when the text is the default one (the contract view
then serves DEFAULT_SIEVE_SCRIPT). All in one transaction: Dovecot never reads settings and a
script that disagree. A refused write changes nothing.

A rule that forwards obeys the domain's forwarding policy for owners
(selfservice.forwarding.clean_forwarding, the rule of the owners' forwarding page), whoever
writes it: the addresses all of the mailbox's forwarding rules send to count together against
the domain's max_forwards.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import diff, record
from mailadmin.access import Actor
from mailadmin.contract.views_v1 import DEFAULT_SIEVE_SCRIPT
from mailboxes.locks import mailbox_for_update
from mailboxes.models import Mailbox
from selfservice.forwarding import clean_forwarding
from sieve import rules
from sieve.models import DEFAULT_DAYS, Action, FilterRule, SieveScript, SieveSettings, Vacation
from sieve.selectors import answerable_addresses, script_text

# The fields of a rule its audit entries show.
_RULE_FIELDS = (
    "position",
    "condition",
    "header_name",
    "match",
    "value",
    "action",
    "folder",
    "forward_to",
    "keep_copy",
    "enabled",
)


def data_id(text: str) -> str:
    """Pigeonhole caches a compiled script by this id: a digest of the text, so that a new
    text is a new id."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def script_publish(*, mailbox: Mailbox) -> SieveScript | None:
    """Store the script the mailbox's settings make now; None when it is the default one. The
    caller holds the mailbox's lock, inside its transaction."""
    text = script_text(mailbox)
    stored = SieveScript.objects.filter(mailbox=mailbox).first()
    if text == DEFAULT_SIEVE_SCRIPT:
        if stored is not None:
            stored.delete()
        return None
    if stored is None:
        return SieveScript.objects.create(mailbox=mailbox, data_id=data_id(text), script=text)
    if stored.script != text:
        stored.script = text
        stored.data_id = data_id(text)
        stored.save()
    return stored


def _locked(actor: Actor, mailbox: Mailbox, *, lock_domain: bool = False) -> Mailbox:
    return mailbox_for_update(actor, mailbox, lock_domain=lock_domain)


def _label(mailbox: Mailbox, *, by_owner: bool, actor_label: str) -> str:
    return mailbox.address if by_owner else actor_label


def _record(
    actor: Actor,
    locked: Mailbox,
    action: str,
    obj: Any,
    changes: dict[str, Any],
    *,
    by_owner: bool,
    actor_label: str,
) -> None:
    """One audit entry of a write to the mailbox's mail settings, under its domain."""
    record(
        actor=actor,
        actor_label=_label(locked, by_owner=by_owner, actor_label=actor_label),
        action=action,
        obj=obj,
        domain=locked.domain.name,
        changes=changes,
    )


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- the vacation reply -------------------------------------------------------------------------


def _vacation_audit(vacation: Vacation | None) -> dict[str, Any]:
    """What the audit shows of a reply; the text itself only as whether it changed."""
    if vacation is None:
        return {}
    return {
        "enabled": vacation.enabled,
        "start": _day(vacation.start),
        "end": _day(vacation.end),
        "subject": vacation.subject,
        "days": vacation.days,
        "addresses": list(vacation.addresses),
    }


@transaction.atomic
def vacation_set(
    *,
    actor: Actor,
    mailbox: Mailbox,
    subject: str,
    body: str,
    days: int = DEFAULT_DAYS,
    start: date | None = None,
    end: date | None = None,
    addresses: list[str] | tuple[str, ...] = (),
    enabled: bool = True,
    by_owner: bool = False,
    actor_label: str = "",
) -> Vacation:
    """Set the mailbox's vacation reply (on, unless `enabled` is False). `addresses`: which of
    the mailbox's addresses it answers for (sieve.selectors.answerable_addresses); none: all.
    `start` and `end` are the first and last day, both optional."""
    locked = _locked(actor, mailbox)
    fields = rules.clean_vacation(
        subject=subject,
        body=body,
        days=days,
        start=start,
        end=end,
        addresses=addresses,
        answerable=answerable_addresses(locked),
        today=timezone.localdate(),
        enabled=enabled,
    )
    vacation = Vacation.objects.select_for_update().filter(mailbox=locked).first()
    before = _vacation_audit(vacation)
    old_body = vacation.body if vacation is not None else None
    if vacation is None:
        vacation = Vacation(mailbox=locked)
    vacation.mailbox = locked
    vacation.enabled = enabled
    vacation.subject = fields.subject
    vacation.body = fields.body
    vacation.days = fields.days
    vacation.start = fields.start
    vacation.end = fields.end
    vacation.addresses = fields.addresses
    vacation.save()
    after = _vacation_audit(vacation)
    changes = after if not before else diff(before, after)
    if before and old_body != vacation.body:
        changes["body"] = "changed"
    if changes:
        action = "update" if before else "create"
        _record(
            actor, locked, action, vacation, changes, by_owner=by_owner, actor_label=actor_label
        )
    script_publish(mailbox=locked)
    return vacation


@transaction.atomic
def vacation_off(
    *, actor: Actor, mailbox: Mailbox, by_owner: bool = False, actor_label: str = ""
) -> Vacation | None:
    """Switch the reply off; its text and dates stay for the next time. None: it had none."""
    locked = _locked(actor, mailbox)
    vacation = Vacation.objects.select_for_update().filter(mailbox=locked).first()
    if vacation is None or not vacation.enabled:
        return vacation
    vacation.mailbox = locked
    vacation.enabled = False
    vacation.save(update_fields=["enabled", "updated_at"])
    _record(
        actor,
        locked,
        "disable",
        vacation,
        {"enabled": [True, False]},
        by_owner=by_owner,
        actor_label=actor_label,
    )
    script_publish(mailbox=locked)
    return vacation


# --- the spam setting ---------------------------------------------------------------------------


@transaction.atomic
def spam_to_junk_set(
    *,
    actor: Actor,
    mailbox: Mailbox,
    enabled: bool,
    by_owner: bool = False,
    actor_label: str = "",
) -> bool:
    """Whether spam-flagged mail goes to Junk (the default) or is filtered like any other."""
    locked = _locked(actor, mailbox)
    settings = SieveSettings.objects.select_for_update().filter(mailbox=locked).first()
    current = True if settings is None else settings.spam_to_junk
    if current == enabled:
        return current
    if settings is None:
        settings = SieveSettings(mailbox=locked)
    settings.mailbox = locked
    settings.spam_to_junk = enabled
    settings.save()
    _record(
        actor,
        locked,
        "update",
        settings,
        {"spam_to_junk": [current, enabled]},
        by_owner=by_owner,
        actor_label=actor_label,
    )
    script_publish(mailbox=locked)
    return enabled


# --- filter rules -------------------------------------------------------------------------------


def _rules_for_update(mailbox: Mailbox) -> list[FilterRule]:
    rows = list(FilterRule.objects.select_for_update().filter(mailbox=mailbox).order_by("position"))
    for row in rows:
        row.mailbox = mailbox
    return rows


def _rule_of(rows: list[FilterRule], rule: FilterRule | int) -> FilterRule:
    """The locked row of `rule` among the mailbox's; a rule of another mailbox is not found."""
    pk = rule if isinstance(rule, int) else rule.pk
    for row in rows:
        if row.pk == pk:
            return row
    raise FilterRule.DoesNotExist("no such filter rule of this mailbox")


def _check_forwarding(mailbox: Mailbox, fields: rules.RuleFields, others: list[FilterRule]) -> None:
    """The owners' forwarding policy for the forwarding rules' addresses together; the
    mailbox's domain is the row locked for the write."""
    if fields.action != Action.FORWARD:
        return
    elsewhere = [row.forward_to for row in others if row.action == Action.FORWARD]
    try:
        clean_forwarding(mailbox, [fields.forward_to, *elsewhere])
    except ValidationError as exc:
        raise ValidationError({"forward_to": exc.messages}) from None


def _rule_audit(rule: FilterRule) -> dict[str, Any]:
    return {field: getattr(rule, field) for field in _RULE_FIELDS}


def _renumber(rows: list[FilterRule]) -> None:
    """Give `rows` the positions 0, 1, 2, ... in their order. The unique (mailbox, position)
    constraint is checked row by row (PostgreSQL and MariaDB alike), so the moved rows first
    go past every position in use, then to their places."""
    moved = [(index, row) for index, row in enumerate(rows) if row.position != index]
    past = max([len(rows), *(row.position + 1 for row in rows)])
    for index, row in moved:
        row.position = past + index
        row.save(update_fields=["position"])
    for index, row in moved:
        row.position = index
        row.save(update_fields=["position", "updated_at"])


@transaction.atomic
def filter_rule_create(
    *,
    actor: Actor,
    mailbox: Mailbox,
    condition: str,
    match: str,
    value: str,
    action: str,
    header_name: str = "",
    folder: str = "",
    forward_to: str = "",
    keep_copy: bool = False,
    enabled: bool = True,
    by_owner: bool = False,
    actor_label: str = "",
) -> FilterRule:
    """Add a rule after the mailbox's last one."""
    locked = _locked(actor, mailbox, lock_domain=action == Action.FORWARD)
    rows = _rules_for_update(locked)
    rules.check_room_for_rule(len(rows))
    fields = rules.clean_rule(
        condition=condition,
        match=match,
        value=value,
        action=action,
        header_name=header_name,
        folder=folder,
        forward_to=forward_to,
        keep_copy=keep_copy,
    )
    _check_forwarding(locked, fields, rows)
    rule = FilterRule(mailbox=locked, position=len(rows), enabled=enabled, **asdict(fields))
    rule.save()
    _record(
        actor,
        locked,
        "create",
        rule,
        _rule_audit(rule),
        by_owner=by_owner,
        actor_label=actor_label,
    )
    script_publish(mailbox=locked)
    return rule


@transaction.atomic
def filter_rule_update(
    *,
    actor: Actor,
    mailbox: Mailbox,
    rule: FilterRule | int,
    condition: str | None = None,
    match: str | None = None,
    value: str | None = None,
    action: str | None = None,
    header_name: str | None = None,
    folder: str | None = None,
    forward_to: str | None = None,
    keep_copy: bool | None = None,
    enabled: bool | None = None,
    by_owner: bool = False,
    actor_label: str = "",
) -> FilterRule:
    """Change a rule of the mailbox; what is None stays as it is. The whole rule is checked
    again, as if it were new."""
    locked = _locked(actor, mailbox, lock_domain=True)
    rows = _rules_for_update(locked)
    row = _rule_of(rows, rule)
    before = _rule_audit(row)
    fields = rules.clean_rule(
        condition=row.condition if condition is None else condition,
        match=row.match if match is None else match,
        value=row.value if value is None else value,
        action=row.action if action is None else action,
        header_name=row.header_name if header_name is None else header_name,
        folder=row.folder if folder is None else folder,
        forward_to=row.forward_to if forward_to is None else forward_to,
        keep_copy=row.keep_copy if keep_copy is None else keep_copy,
    )
    _check_forwarding(locked, fields, [other for other in rows if other.pk != row.pk])
    for name, new in asdict(fields).items():
        setattr(row, name, new)
    if enabled is not None:
        row.enabled = enabled
    row.save()
    changes = diff(before, _rule_audit(row))
    if changes:
        _record(
            actor,
            locked,
            "update",
            row,
            changes,
            by_owner=by_owner,
            actor_label=actor_label,
        )
    script_publish(mailbox=locked)
    return row


@transaction.atomic
def filter_rule_delete(
    *,
    actor: Actor,
    mailbox: Mailbox,
    rule: FilterRule | int,
    by_owner: bool = False,
    actor_label: str = "",
) -> None:
    """Delete a rule; the ones after it move up."""
    locked = _locked(actor, mailbox)
    rows = _rules_for_update(locked)
    row = _rule_of(rows, rule)
    _record(
        actor,
        locked,
        "delete",
        row,
        _rule_audit(row),
        by_owner=by_owner,
        actor_label=actor_label,
    )
    row.delete()
    _renumber([other for other in rows if other is not row])
    script_publish(mailbox=locked)


@transaction.atomic
def filter_rule_move(
    *,
    actor: Actor,
    mailbox: Mailbox,
    rule: FilterRule | int,
    position: int,
    by_owner: bool = False,
    actor_label: str = "",
) -> FilterRule:
    """Move a rule to `position` (0: first); the others keep their order around it."""
    locked = _locked(actor, mailbox)
    rows = _rules_for_update(locked)
    row = _rule_of(rows, rule)
    rules.check_position(position, rules=len(rows))
    old = row.position
    if old == position:
        return row
    rows.remove(row)
    rows.insert(position, row)
    _renumber(rows)
    _record(
        actor,
        locked,
        "update",
        row,
        {"position": [old, position]},
        by_owner=by_owner,
        actor_label=actor_label,
    )
    script_publish(mailbox=locked)
    return row


# --- a restore ----------------------------------------------------------------------------------
# A restore (transfer/backup.py) brings rows back as they were stored, with their keys and
# times, and audits nothing (it brings the audit log back as it was). These are the rules of
# every writer for such rows; the cleaned values are written back into the row, as a write
# through the functions above would store them. The caller saves the rows and then publishes
# the mailbox's script.


def vacation_check_stored(*, vacation: Vacation) -> None:
    """Every rule of a reply (rules.clean_vacation) but "the last day has not passed": that one
    binds switching a reply on, and a reply switched on may have run out since (its script
    sends nothing after its last day), so a backup holds such replies."""
    fields = rules.clean_vacation(
        subject=vacation.subject,
        body=vacation.body,
        days=vacation.days,
        start=vacation.start,
        end=vacation.end,
        addresses=vacation.addresses,
        answerable=answerable_addresses(vacation.mailbox),
        today=timezone.localdate(),
        enabled=False,
    )
    for name, value in asdict(fields).items():
        setattr(vacation, name, value)


def filter_rule_check_stored(*, rule: FilterRule, earlier: list[FilterRule]) -> None:
    """Every rule of a filter rule: the rule limit, rules.clean_rule and the forwarding policy
    over this and the `earlier` rules of its mailbox (checked already, in order)."""
    rules.check_room_for_rule(len(earlier))
    fields = rules.clean_rule(
        condition=rule.condition,
        match=rule.match,
        value=rule.value,
        action=rule.action,
        header_name=rule.header_name,
        folder=rule.folder,
        forward_to=rule.forward_to,
        keep_copy=rule.keep_copy,
    )
    _check_forwarding(rule.mailbox, fields, earlier)
    for name, value in asdict(fields).items():
        setattr(rule, name, value)
