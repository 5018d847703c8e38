"""How addresses are shown: IDN domains in Unicode, the catch-all by name; and how full a
mailbox is."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from mailadmin.names import domain_to_unicode
from mailadmin.sizes import format_size, format_used
from mailboxes.models import Alias, Mailbox, QuotaUsage


def unicode_address(address: str) -> str:
    """`user@xn--bcher-kva.example` as `user@bücher.example`; other text unchanged."""
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local}@{domain_to_unicode(domain)}"


def alias_label(alias: Alias) -> str:
    if alias.is_catchall:
        return _("catch-all of %(domain)s") % {"domain": alias.domain.display_name}
    return f"{alias.local_part}@{alias.domain.display_name}"


def usage_of(mailbox: Mailbox) -> QuotaUsage | None:
    """The mailbox's usage row (joined by the lists' query, else read now), or None: Dovecot
    has not reported this mailbox yet, which is not the same as empty."""
    try:
        return mailbox.quota_usage
    except QuotaUsage.DoesNotExist:
        return None


def usage_html(mailbox: Mailbox) -> SafeString:
    """Used of the quota as a bar and in words: the figures are text, so the bar's colour is
    never the only sign (a screen reader reads the meter's value and the figures)."""
    usage = usage_of(mailbox)
    if usage is None:
        return format_html('<span class="usage muted">{}</span>', _("not reported yet"))
    used = format_used(usage.bytes)
    if usage.percent is None:
        return format_html(
            '<span class="usage">{}</span>', _("%(used)s used, no limit") % {"used": used}
        )
    figures = _("%(used)s of %(limit)s (%(percent)d%%)") % {
        "used": used,
        "limit": format_size(mailbox.quota),
        "percent": usage.percent,
    }
    note = ""
    if usage.over_quota:
        note = format_html(' <span class="badge warn">{}</span>', _("over quota"))
    elif usage.nearly_full:
        note = format_html(' <span class="badge warn">{}</span>', _("nearly full"))
    return format_html(
        '<span class="usage"><meter min="0" max="1000" low="800" high="900" optimum="0"'
        ' value="{}" aria-label="{}">{}%</meter> <span class="figures">{}</span>{}</span>',
        min(usage.permille or 0, 1000),
        _("Quota used"),
        usage.percent,
        figures,
        note,
    )
