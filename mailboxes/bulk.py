"""Bulk actions on a domain's mailboxes and aliases: enable, disable, delete, set the quota.

A batch is the rows the admin ticked, or every row matching the list's search ("all
matching"), resolved through the same selectors as the list, so a domain admin reaches only
their own domain's rows. It runs in one transaction through the per-object services: each
object is checked by the rules a single change obeys (a quota within the domain's maximum
and total, no alias loop closed by a delete or an enable) and gets its own audit entry; the
first refusal rolls the whole batch back and names the object, so a batch is all or
nothing. At most MAX_BATCH objects at once: the services lock and check one row at a time,
and a few thousand are what one request may take.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from domains.models import Domain
from mailadmin.access import Actor, User
from mailboxes import selectors, services
from mailboxes.models import Alias, Mailbox

MAX_BATCH = 1000

ENABLE = "enable"
DISABLE = "disable"
DELETE = "delete"
SET_QUOTA = "set_quota"
MAILBOX_ACTIONS = (ENABLE, DISABLE, SET_QUOTA, DELETE)
ALIAS_ACTIONS = (ENABLE, DISABLE, DELETE)


@dataclass(frozen=True)
class Selection:
    """What a bulk form names: ticked primary keys, or all rows matching the list's filters."""

    pks: tuple[int, ...] = ()
    all_matching: bool = False
    search: str = ""
    nearly_full: bool = False
    active: bool | None = None
    storage_format: str = ""


def selected_mailboxes(*, user: User | None, domain: Domain, selection: Selection) -> list[Mailbox]:
    rows = selectors.mailbox_list(
        user=user,
        domain=domain,
        search=selection.search,
        nearly_full=selection.nearly_full,
        active=selection.active,
        storage_format=selection.storage_format,
    )
    return _bounded(rows if selection.all_matching else rows.filter(pk__in=selection.pks))


def selected_aliases(*, user: User | None, domain: Domain, selection: Selection) -> list[Alias]:
    rows = selectors.alias_list(
        user=user, domain=domain, search=selection.search, active=selection.active
    )
    return _bounded(rows if selection.all_matching else rows.filter(pk__in=selection.pks))


def _bounded(rows: QuerySet) -> list:
    found = list(rows[: MAX_BATCH + 1])
    if not found:
        raise ValidationError(_("Nothing is selected: tick the rows to change first."))
    if len(found) > MAX_BATCH:
        raise ValidationError(
            _(
                "More than %(n)d rows are selected; a batch changes at most %(n)d. Narrow the"
                " search, or change them in several batches."
            )
            % {"n": MAX_BATCH}
        )
    return found


@transaction.atomic
def mailboxes_bulk(
    *, actor: Actor, mailboxes: Sequence[Mailbox], action: str, quota: int | None = None
) -> int:
    """Apply `action` to every mailbox, all or nothing; returns how many were changed."""
    if action not in MAILBOX_ACTIONS:
        raise ValidationError(_("Choose what to do with the selected mailboxes."))
    if action == SET_QUOTA and quota is None:
        raise ValidationError({"quota": _("Enter the new quota.")})
    changed = 0
    for mailbox in mailboxes:
        with _naming(mailbox.address):
            if action == DELETE:
                services.mailbox_delete(actor=actor, mailbox=mailbox)
            elif action == SET_QUOTA:
                if mailbox.quota == quota:
                    continue
                services.mailbox_update(actor=actor, mailbox=mailbox, quota=quota)
            else:
                if mailbox.active == (action == ENABLE):
                    continue
                services.mailbox_set_active(actor=actor, mailbox=mailbox, active=action == ENABLE)
        changed += 1
    return changed


@transaction.atomic
def aliases_bulk(*, actor: Actor, aliases: Sequence[Alias], action: str) -> int:
    if action not in ALIAS_ACTIONS:
        raise ValidationError(_("Choose what to do with the selected aliases."))
    changed = 0
    for alias in aliases:
        with _naming(alias.address):
            if action == DELETE:
                services.alias_delete(actor=actor, alias=alias)
            else:
                if alias.active == (action == ENABLE):
                    continue
                services.alias_set_active(actor=actor, alias=alias, active=action == ENABLE)
        changed += 1
    return changed


@contextmanager
def _naming(address: str) -> Iterator[None]:
    """A refusal names the object it is about: "bob@example.com: …"."""
    try:
        yield
    except ValidationError as exc:
        raise ValidationError(
            _("%(address)s: %(problem)s. Nothing in the batch was changed.")
            % {"address": address, "problem": " ".join(exc.messages).rstrip(".")}
        ) from None


def changed_message(kind: str, action: str, count: int) -> str:
    """The line the panel flashes after a batch."""
    if kind == "mailbox":
        texts = {
            ENABLE: ngettext("Enabled %(n)d mailbox.", "Enabled %(n)d mailboxes.", count),
            DISABLE: ngettext("Disabled %(n)d mailbox.", "Disabled %(n)d mailboxes.", count),
            DELETE: ngettext(
                "Deleted %(n)d mailbox; its mail stays on disk for the operator.",
                "Deleted %(n)d mailboxes; their mail stays on disk for the operator.",
                count,
            ),
            SET_QUOTA: ngettext(
                "Changed the quota of %(n)d mailbox.",
                "Changed the quota of %(n)d mailboxes.",
                count,
            ),
        }
    else:
        texts = {
            ENABLE: ngettext("Enabled %(n)d alias.", "Enabled %(n)d aliases.", count),
            DISABLE: ngettext("Disabled %(n)d alias.", "Disabled %(n)d aliases.", count),
            DELETE: ngettext("Deleted %(n)d alias.", "Deleted %(n)d aliases.", count),
        }
    return texts[action] % {"n": count}
