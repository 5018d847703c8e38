"""Template filters and tags for the per-domain pages: Unicode addresses, human sizes, a
mailbox's quota usage, and the URLs of a list's rows."""

from __future__ import annotations

from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.encoding import iri_to_uri
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from mailadmin.rowparts import PATH_SAFE, Labels, url_around
from mailadmin.sizes import format_size
from mailboxes import display
from mailboxes.models import Mailbox, StorageFormat

register = template.Library()


@register.filter
def unicode_address(value: object) -> str:
    return display.unicode_address(str(value))


@register.filter
def human_size(value: int | None) -> str:
    return format_size(int(value or 0))


@register.simple_tag
def quota_usage(mailbox: Mailbox) -> SafeString:
    """A mailbox's use of its quota: a bar with the figures, or "not reported yet"."""
    return display.usage_html(mailbox)


# Stands in for the varying part of a row's URL; the domain name comes before it in every
# per-domain route, so the last occurrence is the one to fill in.
_PK_PLACEHOLDER = 987654321987654321
_LOCAL_PLACEHOLDER = "local-part-placeholder"

# The fixed words of a mailbox row (mailboxes/_mailbox_row.html), translated once per language.
_MAILBOX_ROW = Labels(
    {
        "inherited": gettext_lazy("inherited"),
        "active": gettext_lazy("active"),
        "disabled": gettext_lazy("disabled"),
        "edit": gettext_lazy("Edit"),
        "password": gettext_lazy("Password"),
        "owner_access": gettext_lazy("Owner access"),
        "owner_access_title": gettext_lazy("Panel login and forced password change for the owner"),
        "disable": gettext_lazy("Disable"),
        "enable": gettext_lazy("Enable"),
        "delete": gettext_lazy("Delete"),
        "select": gettext_lazy("Select"),
    }
)


# Storage formats by value, translated once per language (get_FOO_display() builds the
# field's choices anew on each call).
_FORMATS = Labels(dict(StorageFormat.choices))


@register.filter
def storage_format(value: str) -> str:
    """A mailbox's format as its row shows it: {{ mailbox.format|storage_format }}."""
    return _FORMATS.now().get(value, value)


@register.simple_tag
def mailbox_row_labels() -> dict[str, SafeString]:
    """{% mailbox_row_labels as t %}: the row's words in the active language, escaped."""
    return _MAILBOX_ROW.now()


@register.simple_tag
def member_url(view_name: str, domain_name: str, pk: int) -> str:
    """reverse(view_name, args=[domain_name, pk]) with one reverse() per view and domain.

    A 50-row mailbox list names five URLs per row; reversing each costs more than rendering the
    row (benchmarks, P6).
    """
    head, tail = url_around(
        view_name,
        (domain_name, _PK_PLACEHOLDER),
        str(_PK_PLACEHOLDER),
        get_script_prefix(),
        get_urlconf(),
    )
    return f"{head}{int(pk)}{tail}"


@register.simple_tag
def address_url(view_name: str, local_part: str, domain_name: str) -> str:
    """reverse(view_name, args=[f"{local_part}@{domain_name}"]), reversed once per domain."""
    if "/" in local_part or not local_part:
        return reverse(view_name, args=[f"{local_part}@{domain_name}"])
    head, tail = url_around(
        view_name,
        (f"{_LOCAL_PLACEHOLDER}@{domain_name}",),
        _LOCAL_PLACEHOLDER,
        get_script_prefix(),
        get_urlconf(),
    )
    return f"{head}{iri_to_uri(quote(local_part, safe=PATH_SAFE))}{tail}"
