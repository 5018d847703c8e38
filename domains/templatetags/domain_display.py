"""Template filters for the domain pages: sizes in human units, limits and their use."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from mailadmin.sizes import format_size, format_used

register = template.Library()


@register.filter
def size(value: int | None) -> str:
    return format_size(int(value or 0))


@register.filter
def allocated(value: int | None) -> str:
    """Bytes handed out as quotas: 0 is none at all, not "unlimited"."""
    return format_used(value)


@register.filter
def used(value: int | None) -> str:
    """Bytes in use as Dovecot reported them; 0 is empty, not "unlimited"."""
    return format_used(value)


@register.filter
def of_limit(count: int | None, limit: int | None) -> str:
    """ "3 / 10", or "3" when there is no limit (0)."""
    count = int(count or 0)
    if not limit:
        return str(count)
    return _("%(count)d of %(limit)d") % {"count": count, "limit": limit}


@register.filter
def usage_percent(count: int | None, limit: int | None) -> int:
    """Whole percent of a limit used; 0 for no limit."""
    if not limit:
        return 0
    return min(100, int(int(count or 0) * 100 / int(limit)))
