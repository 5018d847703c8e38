"""Refuse alias destinations in domains hosted here that nothing answers for.

Postfix accepts a message for an alias and rewrites it to the destinations (cleanup(8)); a
destination in a virtual mailbox domain with no mailbox, alias or catch-all for it is then
"User unknown in virtual mailbox table" and the message bounces to its sender, who did
nothing wrong. Such a destination is almost always a typo, so writers refuse it: the admin's
alias pages, the CLI, the owners' forwarding and the import. Addresses of other domains are
fine; whether they exist is for their servers to say.

An address "exists" as the contract views answer it (mailboxes/alias_tables.py): a mailbox, an
active alias (the ones being written included), the domain's catch-all, the same user in an
alias domain's target, or postmaster@ and abuse@ when the server's postmaster address takes
them (mailadmin/contract/views_v1.py); and so does a disabled alias, as a disabled mailbox
does: it is switched off for a while, not missing. An address with an extension
(`john+lists@`) exists when it or its address without the extension does, as Postfix looks
both up.

Disabled domains are not checked (their addresses answer nothing while they are off, and
they are meant to come back), nor domains the writer does not administer: telling who has a
mailbox there would let anyone with a login probe other customers' addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from domains.models import ServerSettings
from mailadmin.contract.trace_types import split_address
from mailadmin.contract.views_v1 import ROLE_LOCAL_PARTS
from mailboxes.alias_tables import Resolver
from mailboxes.models import Alias


def unknown_destinations(
    changes: Mapping[str, Iterable[str]], *, may_check: Callable[[str], bool] | None = None
) -> dict[str, list[str]]:
    """{alias: its destinations that would bounce} for these new or changed aliases
    ({address: destinations}, canonical; taken together on top of the database), counting
    only the domains `may_check` allows (None: every domain)."""
    overlay = {address: tuple(destinations) for address, destinations in changes.items()}
    delimiter = str(settings.MAILADMIN_RECIPIENT_DELIMITER)
    wanted = {d for destinations in overlay.values() for d in destinations}
    bare = {d: split_address(d, delimiter).bare for d in wanted}
    resolver = Resolver(overlay)
    answers = resolver.resolve(wanted | {b for b in bare.values() if b})
    roles_answered = _server_takes_role_addresses()
    found: dict[str, list[str]] = {}
    for alias, destinations in overlay.items():
        for destination in destinations:
            local, _at, domain = destination.rpartition("@")
            if not resolver.hosted_here(domain):
                continue
            if may_check is not None and not may_check(domain):
                continue
            if answers[destination] is not None or (
                bare[destination] and answers[bare[destination]]
            ):
                continue
            if roles_answered and local.lower() in ROLE_LOCAL_PARTS:
                continue
            found.setdefault(alias, []).append(destination)
    if found:
        switched_off = _switched_off_aliases(resolver, {d for ds in found.values() for d in ds})
        found = {
            alias: kept
            for alias, missing in found.items()
            if (kept := [d for d in missing if d not in switched_off])
        }
    return found


def _switched_off_aliases(resolver: Resolver, addresses: set[str]) -> set[str]:
    """Those of `addresses` that are disabled aliases (in an alias domain: of its target).
    Such an address exists, like a disabled mailbox: an admin switched it off for a while."""
    wanted: dict[str, tuple[str, str]] = {}
    for address in addresses:
        local, _at, name = address.rpartition("@")
        wanted[address] = (local, resolver.hosted_name(name))
    where = Q()
    for local, name in wanted.values():
        where |= Q(local_part=local, domain__name=name)
    rows = Alias.objects.filter(where, active=False).order_by()
    found = set(rows.values_list("local_part", "domain__name"))
    return {address for address, key in wanted.items() if key in found}


def unknown_destination_error(destinations: Iterable[str]) -> ValidationError:
    return ValidationError(
        [
            _(
                "%(address)s does not exist: its domain is hosted here and has no mailbox,"
                " alias or catch-all for it, so mail sent on to it would bounce. Create it"
                " first, or correct the address."
            )
            % {"address": address}
            for address in destinations
        ],
        code="unknown_destination",
    )


def check_destinations_exist(
    *, address: str, destinations: Iterable[str], may_check: Callable[[str], bool] | None
) -> None:
    """Raise ValidationError({"destinations": ...}) naming each destination of the alias
    `address` that would bounce."""
    missing = unknown_destinations({address: destinations}, may_check=may_check).get(address)
    if missing:
        raise ValidationError({"destinations": unknown_destination_error(missing)})


def _server_takes_role_addresses() -> bool:
    row = ServerSettings.objects.filter(id=1).values_list("postmaster_address", flat=True)
    return bool(row.first())
