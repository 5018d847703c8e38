"""Which addresses wait for an archive run: the mail directory of a deleted mailbox (or of a
deleted domain) may still be in the mail base, where virtual(8) and Dovecot would hand it to
a new mailbox of the same address. Read from the audit log."""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from audit.models import AuditEntry

# The audit action of a completed `prepare_maildirs --archive-orphans` run: after one, no
# directory of a mailbox deleted earlier is left in the mail base, so mailbox_create lets
# that address be used again (docs/operators.md §6).
ARCHIVED = "maildirs-archived"


def homes_awaiting_archive(domain: str, local_parts: Collection[str] | None = None) -> set[str]:
    """The local parts of `domain` (of `local_parts`) whose mailbox was deleted, or whose
    domain was, after the last `prepare_maildirs --archive-orphans` run: their old mail
    directory may still be in the mail base, where virtual(8) and Dovecot would hand it to a
    new mailbox of the same address. mailbox_create and the import refuse those addresses
    until the operator's archive run has moved the directories aside (docs/operators.md §6).
    Two indexed queries on the audit log, whatever the domain's size."""
    swept = (
        AuditEntry.objects.filter(action=ARCHIVED, domain__in=[domain, ""])
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    deleted = AuditEntry.objects.filter(domain=domain, action="delete").filter(
        models.Q(object_type="mailbox") | models.Q(object_type="domain", object_repr=domain)
    )
    if swept is not None:
        deleted = deleted.filter(created_at__gt=swept)
    pending: set[str] = set()
    suffix = f"@{domain}"
    for kind, shown in deleted.values_list("object_type", "object_repr").iterator():
        if kind == "domain":
            return set(local_parts) if local_parts is not None else {"*"}
        if shown.endswith(suffix):
            pending.add(shown[: -len(suffix)])
    return pending if local_parts is None else pending & set(local_parts)


def awaiting_archive_error(address: str) -> ValidationError:
    """What mailbox_create and the import say for an address of homes_awaiting_archive."""
    return ValidationError(
        _(
            "The mailbox %(address)s was deleted and its mail directory may still be on the "
            "mail server, where the new mailbox would get the old mail. The operator moves it "
            "aside with `manage.py prepare_maildirs --archive-orphans DIR` "
            "(docs/operators.md); the address can be used again after that."
        )
        % {"address": address},
        code="awaiting_archive",
    )
