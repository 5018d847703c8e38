"""virtual_alias_maps for many addresses at once, resolved from the tables behind the contract
views as the views resolve them (mailboxes/loops.py explains what is resolved and why)."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce

from django.db import connection
from django.db.models import Q

from domains.models import AliasDomain, Delivery, Domain
from mailboxes.models import Alias, Mailbox


@dataclass(frozen=True)
class _Hosted:
    id: int
    name: str
    answers: bool  # active and hosted here (or being written to)


@dataclass(frozen=True)
class _Mirror:
    """An alias domain: its addresses answer with the same local part in the target."""

    target: _Hosted
    answers: bool


class Resolver:
    """virtual_alias_maps for many addresses at once, from the tables behind the views, with
    the aliases of `overlay` ({address: destinations}, the catch-all as "@domain") in place of
    what the database holds for them."""

    def __init__(self, overlay: Mapping[str, Sequence[str]]) -> None:
        self.overlay = overlay
        self.written_domains = {address.rpartition("@")[2] for address in overlay}
        self.domains: dict[str, _Hosted | _Mirror | None] = {}
        self.aliases: dict[tuple[int, str], tuple[str, ...]] = {}  # active ones
        self.mailboxes: set[tuple[int, str]] = set()
        self.loaded: set[tuple[int, str]] = set()

    def resolve(self, addresses: Iterable[str]) -> dict[str, tuple[str, ...] | None]:
        wanted = list(dict.fromkeys(addresses))
        self._load_domains({a.rpartition("@")[2] for a in wanted if a not in self.overlay})
        keys: dict[int, set[str]] = {}
        for address in wanted:
            if address in self.overlay:
                continue
            local, _at, name = address.rpartition("@")
            domain = self.domains.get(name)
            hosted = domain.target if isinstance(domain, _Mirror) else domain
            if domain is not None and domain.answers and hosted is not None:
                # The address itself and the catch-all ("") that answers when it is unknown.
                keys.setdefault(hosted.id, set()).update((local, ""))
        self._load_rows(keys)
        return {address: self._answer(address) for address in wanted}

    def hosted_here(self, name: str) -> bool:
        """`name` (resolved before) is an active domain hosted here or an active alias domain
        of one: Postfix delivers its addresses here or refuses them."""
        domain = self.domains.get(name)
        return domain is not None and domain.answers

    def hosted_name(self, name: str) -> str:
        """The hosted domain whose rows answer for `name` (resolved before): an alias domain's
        target, else `name` itself."""
        domain = self.domains.get(name)
        return domain.target.name if isinstance(domain, _Mirror) else name

    def _load_domains(self, names: set[str]) -> None:
        names -= self.domains.keys()
        if not names:
            return
        for name in names:
            self.domains[name] = None
        hosted_rows = (
            Domain.objects.filter(name__in=names)
            .order_by()
            .values_list("id", "name", "active", "delivery")
        )
        for pk, name, active, delivery in hosted_rows:
            self.domains[name] = self._hosted(pk, name, active, delivery)
        mirror_rows = (
            AliasDomain.objects.filter(name__in=names)
            .order_by()
            .values_list(
                "name", "active", "target_id", "target__name", "target__active", "target__delivery"
            )
        )
        for name, active, pk, target, target_active, delivery in mirror_rows:
            hosted = self._hosted(pk, target, target_active, delivery)
            self.domains[name] = _Mirror(hosted, active and hosted.answers)

    def _hosted(self, pk: int, name: str, active: bool, delivery: str) -> _Hosted:
        answers = delivery == Delivery.HOSTED and (active or name in self.written_domains)
        return _Hosted(pk, name, answers)

    def _load_rows(self, keys: dict[int, set[str]]) -> None:
        keys = {
            pk: {local for local in locals_ if (pk, local) not in self.loaded}
            for pk, locals_ in keys.items()
        }
        keys = {pk: locals_ for pk, locals_ in keys.items() if locals_}
        if not keys:
            return
        for chunk in _chunks(keys):
            where = reduce(
                operator.or_,
                (Q(domain_id=pk, local_part__in=sorted(locals_)) for pk, locals_ in chunk.items()),
            )
            found: dict[tuple[int, str], list[str]] = {}
            # No ORDER BY: the models' default order would join the domains for nothing.
            rows = (
                Alias.objects.filter(where, active=True)
                .order_by()
                .values_list("domain_id", "local_part", "destinations__address")
            )
            for pk, local, destination in rows:
                found.setdefault((pk, local), [])
                if destination is not None:
                    found[(pk, local)].append(destination)
            self.aliases.update((key, tuple(value)) for key, value in found.items())
            mailboxes = (
                Mailbox.objects.filter(where).order_by().values_list("domain_id", "local_part")
            )
            self.mailboxes.update(mailboxes)
            self.loaded.update((pk, local) for pk, locals_ in chunk.items() for local in locals_)

    def _catchall(self, domain: _Hosted) -> tuple[str, ...] | None:
        """The catch-all's destinations; () for a catch-all without any, None without one."""
        written = self.overlay.get(f"@{domain.name}")
        if written is not None:
            return tuple(written)
        return self.aliases.get((domain.id, ""))

    def _answer(self, address: str) -> tuple[str, ...] | None:
        if address in self.overlay:
            return tuple(self.overlay[address])
        local, _at, name = address.rpartition("@")
        domain = self.domains.get(name)
        if domain is None or not domain.answers or not local:
            return None
        if isinstance(domain, _Mirror):
            target = domain.target
            same_user = f"{local}@{target.name}"
            if (
                (target.id, local) in self.mailboxes
                or same_user in self.overlay
                or (target.id, local) in self.aliases
                or self._catchall(target) is not None  # "@alias" -> "@target": the same user
            ):
                return (same_user,)
            return None
        if self.aliases.get((domain.id, local)):
            return self.aliases[(domain.id, local)]
        if (domain.id, local) in self.mailboxes and (domain.id, local) not in self.aliases:
            return (address,)
        # An address with no rows (an alias without destinations has none either).
        return self._catchall(domain) or None


def _chunks(keys: dict[int, set[str]]) -> Iterable[dict[int, set[str]]]:
    """One query for all keys, except where the database caps the parameters of a query."""
    limit = connection.features.max_query_params
    if not limit:
        yield keys
        return
    limit = max(limit // 2, 1)
    chunk: dict[int, set[str]] = {}
    size = 0
    for pk, locals_ in keys.items():
        for local in sorted(locals_):
            if size >= limit:
                yield chunk
                chunk, size = {}, 0
            chunk.setdefault(pk, set()).add(local)
            size += 1
    if chunk:
        yield chunk


def resolve(
    addresses: Iterable[str], overlay: Mapping[str, Sequence[str]] | None = None
) -> dict[str, tuple[str, ...] | None]:
    """What virtual_alias_maps answers for each address (catch-all and alias-domain rewriting
    applied), with `overlay`'s aliases as written; one query per table."""
    return Resolver(overlay or {}).resolve(addresses)
