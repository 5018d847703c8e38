"""The owner's overview of their filters and vacation reply (selfservice's home page)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from mailboxes.models import Mailbox
from sieve.selectors import filter_rules_of, vacation_of

register = template.Library()


@register.inclusion_tag("sieve/_summary.html")
def sieve_summary(mailbox: Mailbox) -> dict[str, Any]:
    """Whether the reply is on and between which days, and how many rules there are."""
    vacation = vacation_of(mailbox)
    if vacation is not None and not vacation.enabled:
        vacation = None
    # A reply still on after its last day answers nobody any more: say so.
    end = vacation.end if vacation is not None else None
    return {
        "vacation": vacation,
        "ended": end is not None and end < timezone.localdate(),
        "rules": len(filter_rules_of(mailbox)),
    }
