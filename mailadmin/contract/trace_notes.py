"""Notes on a trace from mailadmin's own tables: why a lookup found nothing (a disabled domain,
alias domain, mailbox or alias) and when a role address answered with the server's postmaster
fallback. Notes explain; they never decide.

The contract reads no application model: the caller hands in a TraceNotes (the panel's reads
the models, mailboxes/trace_notes.py). Without one the trace has no notes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from mailadmin.contract.trace_types import INFO, Step
from mailadmin.contract.views_v1 import ROLE_LOCAL_PARTS


@dataclass(frozen=True)
class DomainState:
    """What mailadmin's tables say of a domain name."""

    disabled: bool = False  # a domain of that name exists and is disabled
    alias_disabled: bool = False  # an alias domain of that name exists and is disabled
    # An enabled alias domain's target when that target is disabled or not hosted here.
    alias_target_off: str = ""


class TraceNotes(Protocol):
    """The reads of mailadmin's tables the notes need; each is one or two queries."""

    def domain_state(self, name: str) -> DomainState: ...

    def inactive_mailboxes(self, domain: str, local_parts: Sequence[str]) -> Collection[str]:
        """The local parts among `local_parts` of the domain's disabled mailboxes."""
        ...

    def inactive_aliases(self, domain: str, local_parts: Collection[str]) -> Sequence[str]:
        """The local parts among `local_parts` of the domain's disabled aliases, in order."""
        ...

    def role_address_is_set(self, domain: str, local_part: str) -> bool:
        """Whether the domain has an enabled alias or any mailbox with this local part."""
        ...

    def server_postmaster(self) -> str:
        """The server's postmaster address, which unset role addresses answer; "" if none."""
        ...


def domain_notes(notes: TraceNotes | None, domain: str) -> list[Step]:
    if notes is None:
        return []
    state = notes.domain_state(domain)
    steps = []
    if state.disabled:
        steps.append(Step("domain", "note_domain_inactive", INFO, {"domain": domain}))
    # A disabled alias domain, or one whose target is disabled, is still an alias domain to
    # Postfix (it stays ours), and recipient_access refuses its mail.
    if state.alias_disabled:
        steps.append(Step("domain", "note_alias_domain_inactive", INFO, {"domain": domain}))
    elif state.alias_target_off:
        params: dict[str, object] = {"domain": domain, "target": state.alias_target_off}
        steps.append(Step("domain", "note_alias_domain_target_off", INFO, params))
    return steps


def address_notes(
    notes: TraceNotes | None, address: str, *, depth: int, bare: str = ""
) -> list[Step]:
    """Disabled rows of the address, and of the address without its extension (`bare`)."""
    if notes is None:
        return []
    addresses = [address, bare] if bare else [address]
    domain = address.rpartition("@")[2]
    locals_ = [item.rpartition("@")[0] for item in addresses]
    steps = []
    off = set(notes.inactive_mailboxes(domain, locals_))
    for item, local in zip(addresses, locals_, strict=True):
        if local in off:
            steps.append(
                Step("deliver", "note_mailbox_inactive", INFO, {"address": item}, [], depth)
            )
    off = set(notes.inactive_aliases(domain, locals_))
    for item, local in zip(addresses, locals_, strict=True):
        if local in off:
            steps.append(Step("expand", "note_alias_inactive", INFO, {"address": item}, [], depth))
    return steps


def alias_notes(
    notes: TraceNotes | None,
    address: str,
    key: str,
    depth: int,
    rows: list[str],
    bare: str = "",
) -> list[Step]:
    """A catch-all, or the address without its extension (`bare`), answered: say so when an
    inactive alias of an address asked before was passed over. A role address nobody set up
    answered: say it is the server's postmaster fallback."""
    if notes is None:
        return []
    local, _at, domain = address.rpartition("@")
    if key == address:
        if local not in ROLE_LOCAL_PARTS or notes.role_address_is_set(domain, local):
            return []
        postmaster = notes.server_postmaster()
        if not postmaster or rows != [postmaster.lower()]:
            return []
        return [Step("expand", "note_role_fallback", INFO, {"address": address}, [], depth)]
    passed = [address] if key == bare else [address, bare] if bare else [address]
    wanted = {item.rpartition("@")[0]: item for item in passed}
    return [
        Step("expand", "note_alias_inactive", INFO, {"address": wanted[local]}, [], depth)
        for local in notes.inactive_aliases(domain, wanted)
    ]
