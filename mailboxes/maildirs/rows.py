"""The mailboxes as prepare_maildirs and archive_orphans need them, read from the database in
one streamed query each, and the token a home's marker holds."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import NamedTuple

from django.db.models import Subquery
from django.db.models.functions import Coalesce

from domains.models import Delivery, Domain, ServerSettings
from mailboxes.models import Mailbox

CHUNK_SIZE = 2000


def mailbox_token(pk: int, created_at: datetime.datetime) -> str:
    """What the marker of a mailbox's home holds: no other mailbox row ever has the same."""
    when = created_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"mailbox {pk} created {when}"


class MailboxDirs(NamedTuple):
    """What one active mailbox needs on disk; uid/gid resolved as the contract views do."""

    domain: str
    local_part: str
    path: str
    format: str
    uid: int | None
    gid: int | None
    # The marker token (mailbox_token) and the row's creation time; empty/None: not checked.
    token: str = ""
    created_at: datetime.datetime | None = None


def active_mailboxes(*, domain_id: int | None = None) -> Iterator[MailboxDirs]:
    """Every active mailbox of every active hosted domain, in one query, streamed.

    The same rows and the same uid/gid as `mailadmin_dovecot_userdb` (mailbox > domain >
    server default, `LEFT JOIN domains_serversettings s ON s.id = 1`); a test pins the two
    together. Ordered by domain so that each domain's rows come together.
    """
    server = ServerSettings.objects.filter(id=1)
    qs = Mailbox.objects.filter(active=True, domain__active=True, domain__delivery=Delivery.HOSTED)
    if domain_id is not None:
        qs = qs.filter(domain_id=domain_id)
    rows = (
        qs.annotate(
            owner_uid=Coalesce("uid", "domain__uid", Subquery(server.values("default_uid"))),
            owner_gid=Coalesce("gid", "domain__gid", Subquery(server.values("default_gid"))),
        )
        .order_by("domain_id", "local_part")
        .values_list(
            "domain__name",
            "local_part",
            "path",
            "format",
            "owner_uid",
            "owner_gid",
            "pk",
            "created_at",
        )
    )
    for domain, local_part, path, fmt, uid, gid, pk, created in rows.iterator(
        chunk_size=CHUNK_SIZE
    ):
        yield MailboxDirs(
            domain, local_part, path, fmt, uid, gid, mailbox_token(pk, created), created
        )


def mailbox_homes(*, domain: str | None = None) -> dict[str, dict[str, str]]:
    """{domain: {local part: marker token}} of every mailbox of every hosted domain (or of
    `domain`), active or not: what archive_orphans must leave in place."""
    qs = Mailbox.objects.filter(domain__delivery=Delivery.HOSTED)
    domains = Domain.objects.filter(delivery=Delivery.HOSTED)
    if domain is not None:
        qs = qs.filter(domain__name=domain)
        domains = domains.filter(name=domain)
    homes: dict[str, dict[str, str]] = {name: {} for name in domains.values_list("name", flat=True)}
    rows = qs.values_list("domain__name", "local_part", "pk", "created_at")
    for name, local_part, pk, created_at in rows.iterator(chunk_size=CHUNK_SIZE):
        homes.setdefault(name, {})[local_part] = mailbox_token(pk, created_at)
    return homes
