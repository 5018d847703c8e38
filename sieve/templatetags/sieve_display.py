"""What the owner's home page (selfservice/home.html) shows of their filters and vacation
reply: `{% sieve_summary owner as sieve %}`."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from mailboxes.models import Mailbox
from sieve.selectors import filter_rules_of, vacation_of

register = template.Library()


@register.simple_tag
def sieve_summary(mailbox: Mailbox) -> dict[str, Any]:
    """`vacation`: the reply when it is on, else None; `ended`: on, but past its last day (it
    answers nobody any more); `rules`: how many filter rules there are."""
    vacation = vacation_of(mailbox)
    if vacation is not None and not vacation.enabled:
        vacation = None
    end = vacation.end if vacation is not None else None
    return {
        "vacation": vacation,
        "ended": end is not None and end < timezone.localdate(),
        "rules": len(filter_rules_of(mailbox)),
    }
