"""Template filters and tags for the per-domain pages: Unicode addresses, human sizes, a
mailbox's quota usage, and the URLs of a list's rows."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.encoding import iri_to_uri
from django.utils.safestring import SafeString

from mailadmin.sizes import format_size
from mailboxes import display
from mailboxes.models import Mailbox

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
# What reverse() leaves unquoted in a path (django.urls.resolvers).
_PATH_SAFE = "!$&'()*+,;=/~:@"


@lru_cache(maxsize=1024)
def _url_around(
    view_name: str, args: tuple[object, ...], placeholder: str, prefix: str, urlconf: str | None
) -> tuple[str, str]:
    # `prefix` and `urlconf` are part of the cache key only: reverse() reads them itself.
    url = reverse(view_name, args=args, urlconf=urlconf)
    head, found, tail = url.rpartition(placeholder)
    if not found:
        raise ValueError(f"{view_name} does not put its argument in the path")
    return head, tail


@register.simple_tag
def member_url(view_name: str, domain_name: str, pk: int) -> str:
    """reverse(view_name, args=[domain_name, pk]) with one reverse() per view and domain.

    A 50-row mailbox list names five URLs per row; reversing each costs more than rendering the
    row (benchmarks, P6).
    """
    head, tail = _url_around(
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
    head, tail = _url_around(
        view_name,
        (f"{_LOCAL_PLACEHOLDER}@{domain_name}",),
        _LOCAL_PLACEHOLDER,
        get_script_prefix(),
        get_urlconf(),
    )
    return f"{head}{iri_to_uri(quote(local_part, safe=_PATH_SAFE))}{tail}"
