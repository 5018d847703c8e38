"""How addresses are shown: IDN domains in Unicode, the catch-all by name."""

from __future__ import annotations

from django.utils.translation import gettext as _

from mailadmin.names import domain_to_unicode
from mailboxes.models import Alias


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
