"""Template filters for the domain pages: sizes in human units, limits and their use; and
what each row of the domain list shares (mailadmin.rowparts)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domains.models import Delivery
from mailadmin.rowparts import Labels, url_with
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


# The fixed words of a domain row (domains/_domain_row.html), translated once per language.
_DOMAIN_ROW = Labels(
    {
        "active": gettext_lazy("active"),
        "inactive": gettext_lazy("inactive"),
        "disable": gettext_lazy("Disable"),
        "enable": gettext_lazy("Enable"),
        "confirm_disable": gettext_lazy(
            "Disable this domain? Mail to every address of it is refused until it is enabled again."
        ),
    }
)
# Deliveries by value (get_delivery_display() builds the field's choices anew on each call).
_DELIVERIES = Labels(dict(Delivery.choices))


@register.simple_tag
def domain_row_labels() -> dict[str, SafeString]:
    """{% domain_row_labels as t %}: the row's words in the active language, escaped."""
    return _DOMAIN_ROW.now()


@register.filter
def delivery(value: str) -> str:
    """A domain's delivery as its row shows it: {{ domain.delivery|delivery }}."""
    return _DELIVERIES.now().get(value, value)


@register.simple_tag
def domain_url(view_name: str, name: str) -> str:
    """reverse(view_name, args=[name]) with one reverse() per view (a row's links)."""
    return url_with(view_name, name)
