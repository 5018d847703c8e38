"""Where a mailbox's mail is written and as whom: the one rule every writer calls.

A mailbox's path (under the mail base) and its uid/gid decide whose files Postfix's virtual(8)
and Dovecot open for it. The services, the CSV import, the PostfixAdmin migration and the
restore of a backup all go through this module, so no path can reach another mailbox's mail.

The path of `local@domain` is its canonical one, `domain/local/` (Maildir) or
`domain/local/mbox`, or a path of its own (imported from an older system) that

- holds only letters, digits and `. _ + @ = -` between single slashes: nothing that Dovecot
  reads as syntax in a mail location (`:` starts a parameter such as `INBOX=` or `INDEX=`,
  `%` a variable, `~` the home) or that a shell or Postfix splits on (white space, `,`);
- lies under the mailbox's own domain directory `domain/…` or its own address directory
  `local@domain/…` (PostfixAdmin's layouts), never at the domain directory itself;
- shares no directory with another mailbox: it is not another mailbox's home
  (`domain/other`, where Dovecot keeps its Sieve scripts and indexes) or path, does not lie
  inside one, and contains none.

Since every path lies under its own domain or address, only mailboxes of the same domain can
ever collide. uid and gid are the owner of delivered files: only a superadmin (or the operator's
CLI) sets them, as for a domain's.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from mailadmin.access import is_superadmin
from mailadmin.digestindex import DigestIndex
from mailboxes.models import Mailbox
from mailboxes.paths import ancestors, check_path, territories


def path_conflict(
    *, domain: str, local_part: str, path: str, exclude_pk: int | None = None
) -> Mailbox | None:
    """Another mailbox whose home or path shares a directory with this one's, or None.

    One query. The unique index on path (varchar_pattern_ops on PostgreSQL) answers both the
    equality and the prefix conditions.
    """
    condition = Q()
    for territory in territories(domain, local_part, path):
        at_or_above = (territory, *ancestors(territory))
        condition |= Q(path__in=[v for t in at_or_above for v in (t, f"{t}/")])
        condition |= Q(path__startswith=f"{territory}/")
        segments = territory.split("/")
        if segments[0] == domain and len(segments) >= 2 and segments[1] != local_part:
            # Inside (or at) the home of `segments[1]@domain`.
            condition |= Q(domain__name=domain, local_part=segments[1])
    others = Mailbox.objects.filter(condition).select_related("domain")
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.first()


class PathIndex:
    """The territories of many mailboxes in memory, for bulk writers (import, restore).

    Each mailbox is checked against all claimed before it, then claimed; the cost per mailbox is
    a few digest look-ups whatever the number of mailboxes (mailadmin/digestindex.py: 24 bytes a
    key). `claim` returns the line of the mailbox it collides with (0: one already stored).
    """

    def __init__(self) -> None:
        # "o:" + a territory, "i:" + every proper ancestor of one (something lies inside it).
        self.keys = DigestIndex()

    def conflict(self, domain: str, local_part: str, path: str) -> int | None:
        for territory in territories(domain, local_part, path):
            keys = (f"o:{territory}", f"i:{territory}", *(f"o:{a}" for a in ancestors(territory)))
            for key in keys:
                line = self.keys.get(key)
                if line is not None:
                    return line
        return None

    def add(self, domain: str, local_part: str, path: str, line: int) -> None:
        for territory in territories(domain, local_part, path):
            self.keys.add(f"o:{territory}", line)
            for above in ancestors(territory):
                self.keys.add(f"i:{above}", line)

    def claim(self, domain: str, local_part: str, path: str, line: int) -> int | None:
        clash = self.conflict(domain, local_part, path)
        if clash is None:
            self.add(domain, local_part, path, line)
        return clash

    def load_domain(self, domain_id: int, domain: str) -> None:
        """Claim the territories of every stored mailbox of a domain (line 0): one query."""
        rows = Mailbox.objects.filter(domain_id=domain_id).values_list("local_part", "path")
        for local_part, path in rows.iterator(chunk_size=5000):
            self.add(domain, local_part, path, 0)


def check_owner_ids(actor: Any, *changes: object) -> None:
    """A mailbox's uid/gid decides as whom mail is written on disk: superadmins only, as for
    a domain's. A domain admin could otherwise write into another domain's files."""
    if any(change not in (None, False) for change in changes) and not is_superadmin(actor):
        raise PermissionDenied(_("Only a superadmin can set a mailbox's uid or gid."))


def stored_path_problems(limit: int = 50) -> list[str]:
    """Every stored mailbox checked against the path rule, in one streamed query: for bulk
    loads that wrote rows directly (a restore). At most `limit` problems are listed."""
    index = PathIndex()
    problems: list[str] = []
    rows = Mailbox.objects.order_by("domain_id", "pk").values_list(
        "pk", "domain__name", "local_part", "path", "format"
    )
    for pk, domain, local_part, path, storage_format in rows.iterator(chunk_size=5000):
        address = f"{local_part}@{domain}"
        try:
            check_path(path, domain=domain, local_part=local_part, storage_format=storage_format)
        except ValidationError as exc:
            problems.append(f"{address}: {' '.join(exc.messages)}")
        else:
            if index.claim(domain, local_part, path, pk) is not None:
                problems.append(
                    _("%(address)s: %(path)s shares a directory with another mailbox.")
                    % {"address": address, "path": path}
                )
        if len(problems) >= limit:
            break
    return problems
