"""CSV export in the import format: what a user may see, every cell safe for spreadsheets.

Quotas and limits are written in bytes, so that a file exported and imported again gives the
same rows. Password hashes are included only when asked (superadmins and the CLI): a domain
admin's export has an empty password column.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from django.db.models import Prefetch

from domains.models import RelayRecipient
from domains.selectors import alias_domains_visible_to, domains_visible_to
from mailadmin.access import User
from mailboxes.models import AliasDestination
from mailboxes.selectors import aliases_visible_to, mailboxes_visible_to
from transfer.csvformat import write_rows

CHUNK = 2000


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _owner(value: int | None) -> str:
    return "" if value is None else str(value)


def export_rows(user: User | None, *, include_hashes: bool) -> Iterator[dict[str, str]]:
    for domain in domains_visible_to(user).order_by("name").iterator(chunk_size=CHUNK):
        yield {
            "type": "domain",
            "name": domain.name,
            "display_name": domain.description,
            "active": _yes(domain.active),
            "delivery": domain.delivery,
            "transport": domain.transport,
            "accept_any": "" if domain.is_hosted else _yes(domain.relay_accept_any),
            "max_mailboxes": str(domain.max_mailboxes),
            "max_aliases": str(domain.max_aliases),
            "max_quota": str(domain.max_mailbox_quota),
            "total_quota": str(domain.total_quota),
            "default_quota": str(domain.default_mailbox_quota),
            "uid": _owner(domain.uid),
            "gid": _owner(domain.gid),
        }
    for alias_domain in alias_domains_visible_to(user).order_by("name").iterator(chunk_size=CHUNK):
        yield {
            "type": "aliasdomain",
            "name": alias_domain.name,
            "target": alias_domain.target.name,
            "active": _yes(alias_domain.active),
        }
    mailboxes = mailboxes_visible_to(user).order_by("domain__name", "local_part")
    for mailbox in mailboxes.iterator(chunk_size=CHUNK):
        yield {
            "type": "mailbox",
            "name": mailbox.address,
            "password": mailbox.password if include_hashes else "",
            "display_name": mailbox.name,
            "quota": str(mailbox.quota),
            "format": mailbox.format,
            "maildir": mailbox.path,
            "active": _yes(mailbox.active),
            "uid": _owner(mailbox.uid),
            "gid": _owner(mailbox.gid),
        }
    aliases = (
        aliases_visible_to(user)
        .order_by("domain__name", "local_part")
        .prefetch_related(
            Prefetch("destinations", queryset=AliasDestination.objects.order_by("address"))
        )
    )
    for alias in aliases.iterator(chunk_size=CHUNK):
        yield {
            "type": "alias",
            "name": alias.address,
            "display_name": alias.description,
            "destinations": " ".join(d.address for d in alias.destinations.all()),
            "active": _yes(alias.active),
        }

    recipients = (
        RelayRecipient.objects.filter(domain__in=domains_visible_to(user))
        .select_related("domain")
        .order_by("domain__name", "local_part")
    )
    for recipient in recipients.iterator(chunk_size=CHUNK):
        yield {"type": "relayrecipient", "name": recipient.address}


def export_csv(out: IO[str], user: User | None, *, include_hashes: bool) -> int:
    """Write the CSV to `out`; returns the number of rows."""
    return write_rows(out, export_rows(user, include_hashes=include_hashes))
