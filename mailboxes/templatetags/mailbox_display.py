"""Template filters for the per-domain pages: Unicode addresses and human sizes."""

from __future__ import annotations

from django import template

from mailboxes import display
from mailboxes.quota import format_size

register = template.Library()


@register.filter
def unicode_address(value: object) -> str:
    return display.unicode_address(str(value))


@register.filter
def human_size(value: int | None) -> str:
    return format_size(int(value or 0))
