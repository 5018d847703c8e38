"""What the address trace works with and gives back: Postfix's limits, the outcome of a step,
an address cut at its recipient delimiter, and the result (steps, their lookups, deliveries).
The result holds codes and parameters; the panel turns them into sentences."""

from __future__ import annotations

from dataclasses import dataclass, field

# Postfix's defaults (postconf -d), which the exported main.cf lines keep.
RECURSION_LIMIT = 1000  # virtual_alias_recursion_limit
EXPANSION_LIMIT = 1000  # virtual_alias_expansion_limit
MYDESTINATION = ("localhost",)  # the generated main.cf lines set mydestination = localhost
# Addresses past the recipient the trace follows and shows; the rest is counted.
TRACE_LIMIT = 50

# Outcomes of a step.
OK = "ok"
INFO = "info"
REJECT = "reject"
DEFER = "defer"
BOUNCE = "bounce"
HIDDEN = "hidden"


@dataclass(frozen=True)
class Split:
    """An address cut at its recipient delimiter, as strip_addr(3) cuts it."""

    bare: str = ""  # the address without its extension; empty when it is not split
    extension: str = ""  # the extension with its delimiter: "+tag"
    kept: str = ""  # why a local part holding a delimiter stays whole: "reserved", "leading"


# split_addr.c: local parts Postfix never splits, whatever the delimiter (postmaster,
# MAILER-DAEMON, double_bounce_sender = double-bounce), and, with owner_request_special = yes
# (the default, which the exported lines keep) and "-" among the delimiters, owner-... and
# ...-request. These rules hold for every domain: the exported lookups are no different for
# a local, hosted, alias or relayed one.
_NEVER_SPLIT = ("postmaster", "mailer-daemon", "double-bounce")


def split_address(address: str, delimiter: str) -> Split:
    """`address` cut at the first character of its local part found in `delimiter` (several
    characters: whichever comes first), or not cut at all (empty delimiter, none found, or
    a local part Postfix keeps whole)."""
    local, at, domain = address.rpartition("@")
    if not at:
        local = address
    if not delimiter or not any(char in local for char in delimiter):
        return Split()
    folded = local.lower()
    if folded in _NEVER_SPLIT:
        return Split(kept="reserved")
    if "-" in delimiter and (
        folded.startswith("owner-") or (len(folded) > 8 and folded.endswith("-request"))
    ):
        return Split(kept="reserved")
    cut = next(index for index, char in enumerate(local) if char in delimiter)
    if cut == 0:
        return Split(kept="leading")  # no empty local part
    return Split(f"{local[:cut]}{at}{domain}", local[cut:])


@dataclass(frozen=True)
class Lookup:
    """One query Postfix sends: the table (as exported, e.g. virtual_alias_maps), the key."""

    table: str
    key: str
    query: str
    rows: tuple[str, ...] = ()
    suppressed: bool = False  # Postfix does not send the query for this key at all

    @property
    def found(self) -> bool:
        return bool(self.rows)

    @property
    def answer(self) -> str | None:
        """What postmap -q prints: the rows joined with commas, or None when not found."""
        return ",".join(self.rows) if self.rows else None


@dataclass
class Step:
    stage: str  # "domain", "rcpt", "expand", "deliver"
    code: str
    outcome: str
    params: dict[str, object] = field(default_factory=dict)
    lookups: list[Lookup] = field(default_factory=list)
    depth: int = 0


@dataclass(frozen=True)
class Delivery:
    address: str
    code: str  # the code of the step that decided it
    outcome: str


@dataclass
class Trace:
    address: str
    steps: list[Step] = field(default_factory=list)
    verdict: str = ""  # "rejected", "deferred", "accepted" or "partial" (TRACE_LIMIT)
    reply: str = ""  # the SMTP reply for a rejection
    deliveries: list[Delivery] = field(default_factory=list)
    untraced: int = 0  # addresses of the expansion past TRACE_LIMIT

    @property
    def lookups(self) -> list[Lookup]:
        return [lookup for step in self.steps for lookup in step.lookups]
