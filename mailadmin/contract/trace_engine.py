"""The state of one trace and the lookups every stage shares: mail_addr_find(3) with the
recipient delimiter, and trivial-rewrite's address classes."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from mailadmin.contract.trace_lookups import Lookups
from mailadmin.contract.trace_notes import TraceNotes
from mailadmin.contract.trace_types import (
    MYDESTINATION,
    Delivery,
    Lookup,
    Split,
    Step,
    Trace,
    split_address,
)

DomainFilter = Callable[[str], bool]


def _everything(_domain: str) -> bool:
    return True


class Tracer:
    """What one trace knows as it goes: the queries asked (each key once), the domains the
    asking admin may see, the notes (None: no notes) and the extensions dropped so far."""

    def __init__(
        self, may_see: DomainFilter | None = None, notes: TraceNotes | None = None
    ) -> None:
        self.db = Lookups()
        self.may_see = may_see or _everything
        self.notes = notes
        self.delimiter = str(settings.MAILADMIN_RECIPIENT_DELIMITER)
        # Addresses reached through an entry found without the extension: the extension.
        self.dropped: dict[str, str] = {}

    def split(self, address: str) -> Split:
        return split_address(address, self.delimiter)

    def find(self, parameter: str, address: str, *, catchall: bool = False) -> list[Lookup]:
        """mail_addr_find(3): the address, then the address without its extension, then
        (`catchall`) "@domain", each key in every table of the parameter, up to the first
        answer."""
        keys = [address]
        bare = self.split(address).bare
        if bare:
            keys.append(bare)
        local, _at, domain = address.rpartition("@")
        if catchall and local:
            keys.append(f"@{domain}")
        asked: list[Lookup] = []
        for key in keys:
            asked += self.db.ask_all(parameter, key)
            if asked[-1].found:
                break
        return asked

    def fallback(self, address: str, lookup: Lookup) -> dict[str, object] | None:
        """The parameters of a step when `lookup` answered the key without the extension."""
        if not lookup.found or lookup.key != self.split(address).bare:
            return None
        return {"address": address, "key": lookup.key, "delimiter": self.delimiter}

    def domain_class(self, domain: str) -> tuple[str, list[Lookup]]:
        """trivial-rewrite's resolve: local, virtual alias, virtual mailbox, relay, default."""
        if domain in MYDESTINATION:
            return "local", []
        asked = []
        for table, kind in (
            ("virtual_alias_domains", "alias"),
            ("virtual_mailbox_domains", "hosted"),
            ("relay_domains", "relay"),
        ):
            lookup = self.db.ask(table, domain)
            asked.append(lookup)
            if lookup.found:
                return kind, asked
        return "foreign", asked

    @staticmethod
    def finish(result: Trace, step: Step) -> None:
        """`step` decided the fate of its address: a delivery of the result."""
        result.steps.append(step)
        result.deliveries.append(Delivery(str(step.params["address"]), step.code, step.outcome))
