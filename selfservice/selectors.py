"""Reads for the owners' self-service: always about the one mailbox of the session."""

from __future__ import annotations

from dataclasses import dataclass

from mailboxes.models import Alias, Mailbox


def forwarding_alias(mailbox: Mailbox, *, for_update: bool = False) -> Alias | None:
    """The alias with the mailbox's own address: it is the mailbox's forwarding."""
    qs = Alias.objects.filter(domain_id=mailbox.domain_id, local_part=mailbox.local_part)
    if for_update:
        qs = qs.select_for_update()
    return qs.first()


@dataclass(frozen=True)
class ForwardingState:
    destinations: list[str]  # without the mailbox's own address
    keep_copy: bool
    active: bool  # False: an admin switched this alias off; mail is delivered to the mailbox


def forwarding_of(mailbox: Mailbox) -> ForwardingState:
    alias = forwarding_alias(mailbox)
    if alias is None:
        return ForwardingState(destinations=[], keep_copy=True, active=True)
    addresses = sorted(alias.destinations.values_list("address", flat=True))
    own = mailbox.address
    return ForwardingState(
        destinations=[a for a in addresses if a != own],
        keep_copy=own in addresses,
        active=alias.active,
    )


def aliases_delivering_to(mailbox: Mailbox) -> list[Alias]:
    """Active aliases (of any domain) that list this mailbox among their destinations, except
    its own forwarding alias."""
    return list(
        Alias.objects.filter(
            active=True,
            domain__active=True,
            destinations__address=mailbox.address,
        )
        .exclude(domain_id=mailbox.domain_id, local_part=mailbox.local_part)
        .select_related("domain")
        .order_by("domain__name", "local_part")
        .distinct()
    )


def alias_domain_addresses(mailbox: Mailbox) -> list[str]:
    """The mailbox's address in each active alias domain of its domain."""
    names = mailbox.domain.alias_domains.filter(active=True).values_list("name", flat=True)
    return [f"{mailbox.local_part}@{name}" for name in sorted(names)]
