"""Refuse alias writes after which Postfix would defer mail: loops and oversized expansions.

What Postfix does (cleanup_map1n.c, Postfix 3.7; postconf(5)): cleanup(8) rewrites each
recipient in place with the first result of virtual_alias_maps (`user@domain`, then
`@domain`) and appends the other results as new recipients, then rewrites each of those the
same way, until no entry answers. An address among its own results is "fixed": it is kept and
never expanded again. Nothing else stops a loop: Postfix does not notice an address coming
back; it defers the message ("451 4.6.0 Alias expansion error") when one recipient has been
rewritten virtual_alias_recursion_limit (1000) times or when the list holds more than
virtual_alias_expansion_limit (1000) addresses, and the sender's server retries for days.

So the cycles that defer are exactly those in which no address lists itself: a mailbox keeps a
copy by listing its own address (and a mailbox without an alias answers with itself in the
contract views), so a cycle through such an address stops there and the mail is delivered
once. Any other cycle reachable from an address defers all of that address's mail, whichever
way into the cycle the mail comes. `judge` finds such a cycle (and names it); without one it
replays cleanup_map1n on the resolved graph to apply the two limits exactly.

Destinations resolve as the contract views resolve them (mailadmin/contract/views_v1.py):
active aliases of active hosted domains, every mailbox answering for itself when it has no
active alias, alias domains mapping each address of their target to the target's address (and
`@alias` to `@target`, the same user in the target, virtual(5)), catch-alls only for addresses
that are neither mailbox nor alias. The aliases being written answer as written, active or not,
and so does their domain: switching one on later must not be what closes a loop.

The walk is breadth-first with one query per level for each of the four tables (domains, alias
domains, aliases with their destinations, mailboxes), so its cost grows with the depth of the
expansion, not with its width. It stops at RECURSION_LIMIT levels and at WALK_LIMIT addresses
per alias checked; an alias whose expansion goes further is refused as too large to check.

Not covered: two transactions writing the two halves of a loop at the same moment each see the
other's old state (the address trace shows such a loop); and writes that do not change alias
destinations (switching an alias, a domain or an alias domain on, deleting a mailbox) are not
checked here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from domains.selectors import alias_domains_visible_to, domains_visible_to
from mailadmin.access import Actor, is_superadmin
from mailadmin.contract import trace
from mailboxes.alias_tables import Resolver
from mailboxes.models import Alias, AliasDestination

# Postfix's defaults, which the generated main.cf lines keep.
EXPANSION_LIMIT = trace.EXPANSION_LIMIT  # virtual_alias_expansion_limit
RECURSION_LIMIT = trace.RECURSION_LIMIT  # virtual_alias_recursion_limit
# Addresses the walk may meet per alias checked: room for an alias of 1000 forwards to 1000
# other aliases, far more than any expansion Postfix accepts needs.
WALK_LIMIT = 10 * EXPANSION_LIMIT

LOOP = "loop"
TOO_MANY = "too_many"  # more than EXPANSION_LIMIT addresses
TOO_DEEP = "too_deep"  # one address rewritten RECURSION_LIMIT times
TOO_BIG = "too_big"  # more than the walk follows

ARROW = " → "
HIDDEN = "…"

# address -> what virtual_alias_maps answers for it (None: nothing, the address is final)
Table = Mapping[str, Sequence[str] | None]


@dataclass(frozen=True)
class Deferral:
    """Why Postfix would defer mail to `address`; for a loop, `path` runs from `address` into
    the loop and once round it."""

    address: str
    code: str
    path: tuple[str, ...] = ()


# -- the model of cleanup_map1n ---------------------------------------------------------------


def judge(address: str, table: Table) -> Deferral | None:
    """What Postfix does with mail to `address` when virtual_alias_maps answers as `table`:
    None when it accepts the message, else why it defers it."""
    cycle = find_loop(address, table)
    if cycle is not None:
        return Deferral(address, LOOP, cycle)
    code = replay(address, table)
    return Deferral(address, code) if code else None


def _fixed(address: str, table: Table) -> bool:
    return address in (table.get(address) or ())


def find_loop(address: str, table: Table) -> tuple[str, ...] | None:
    """A cycle reachable from `address` in which no address lists itself, as the path from
    `address` into the cycle and once round it; None when there is none."""
    parent: dict[str, str | None] = {address: None}
    order = [address]
    for current in order:  # breadth first: the shortest way to each address
        for target in table.get(current) or ():
            if target not in parent:
                parent[target] = current
                order.append(target)
    state: dict[str, int] = {}  # 1: on the depth-first stack, 2: done
    for start in order:
        if start in state or _fixed(start, table):
            continue
        stack = [start]
        children = [iter(table.get(start) or ())]
        state[start] = 1
        while stack:
            child = next(children[-1], None)
            if child is None:
                state[stack.pop()] = 2
                children.pop()
                continue
            if _fixed(child, table) or not table.get(child):
                continue
            if state.get(child) == 1:
                cycle = [*stack[stack.index(child) :], child]
                way_in: list[str] = []
                node: str | None = parent[child]
                while node is not None:
                    way_in.append(node)
                    node = parent[node]
                return (*reversed(way_in), *cycle)
            if child not in state:
                state[child] = 1
                stack.append(child)
                children.append(iter(table.get(child) or ()))
    return None


def replay(address: str, table: Table) -> str | None:
    """cleanup_map1n's expansion of `address` with Postfix's two limits (read when called);
    None when it ends within them. Finite only without a loop (find_loop first)."""
    addresses = [address]
    fixed: set[str] = set()
    index = 0
    while index < len(addresses):
        if len(addresses) > EXPANSION_LIMIT:
            return TOO_MANY
        count = 0
        while True:
            current = addresses[index]
            if current in fixed:
                break
            if count >= RECURSION_LIMIT:
                return TOO_DEEP
            results = table.get(current)
            if not results:
                break
            for position, result in enumerate(results):
                if position == 0:
                    addresses[index] = result
                else:
                    addresses.append(result)
                if result == current:
                    fixed.add(current)
            count += 1
        index += 1
    return None


def alias_expansion_problems(changes: Mapping[str, Iterable[str]]) -> dict[str, Deferral]:
    """Which of these new or changed aliases ({address: destinations}, canonical, the catch-all
    as "@domain"), taken together on top of the database, Postfix would defer mail to.

    The batch form for imports: one walk for all of them, one query per level per table.
    """
    overlay = {address: tuple(dict.fromkeys(values)) for address, values in changes.items()}
    resolver = Resolver(overlay)
    table: dict[str, tuple[str, ...] | None] = {a: overlay[a] for a in overlay}
    frontier = {target for values in overlay.values() for target in values} - table.keys()
    limit = WALK_LIMIT * max(len(overlay), 1)
    levels = 0
    unfinished: str | None = None
    while frontier:
        if levels >= RECURSION_LIMIT:
            unfinished = TOO_DEEP
            break
        if len(table) + len(frontier) > limit:
            unfinished = TOO_BIG
            break
        answers = resolver.resolve(frontier)
        table.update(answers)
        frontier = {t for values in answers.values() if values for t in values} - table.keys()
        levels += 1
    problems: dict[str, Deferral] = {}
    for address in overlay:
        if unfinished and _reaches(address, table, frontier):
            problems[address] = Deferral(address, unfinished)
            continue
        problem = judge(address, table)
        if problem is not None:
            problems[address] = problem
    return problems


def _reaches(address: str, table: Table, unknown: set[str]) -> bool:
    seen = {address}
    todo = [address]
    while todo:
        for target in table.get(todo.pop()) or ():
            if target in unknown:
                return True
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return False


# -- messages -------------------------------------------------------------------------------


def describe(problem: Deferral, *, may_see: Callable[[str], bool] | None = None) -> str:
    """The refusal in words. `may_see(domain)` False hides the addresses of that domain in the
    path, except the first hop (a destination the writer typed) and the alias itself."""
    if problem.code == LOOP:
        shown: list[str] = []
        for position, address in enumerate(problem.path):
            domain = address.rpartition("@")[2]
            visible = (
                position <= 1 or address == problem.address or may_see is None or may_see(domain)
            )
            item = address if visible else HIDDEN
            if not (item == HIDDEN and shown and shown[-1] == HIDDEN):
                shown.append(item)
        return _(
            "Mail to %(address)s would go round a loop: %(path)s. Postfix would defer it "
            "(“4.6.0 Alias expansion error”) and the sender's server would retry for days."
        ) % {"address": problem.address, "path": ARROW.join(shown)}
    if problem.code == TOO_MANY:
        return _(
            "Mail to %(address)s would expand to more than %(limit)d addresses: Postfix would "
            "defer it (virtual_alias_expansion_limit)."
        ) % {"address": problem.address, "limit": EXPANSION_LIMIT}
    if problem.code == TOO_DEEP:
        return _(
            "Mail to %(address)s would be rewritten more than %(limit)d times in a row: Postfix "
            "would defer it (virtual_alias_recursion_limit)."
        ) % {"address": problem.address, "limit": RECURSION_LIMIT}
    return _(
        "The aliases behind %(address)s reach more than %(limit)d addresses, more than "
        "mailadmin follows to check them for loops."
    ) % {"address": problem.address, "limit": WALK_LIMIT}


def visible_to(actor: Actor) -> Callable[[str], bool] | None:
    if is_superadmin(actor):
        return None
    seen: dict[str, bool] = {}

    def may_see(name: str) -> bool:
        if name not in seen:
            seen[name] = (
                domains_visible_to(actor).filter(name=name).exists()
                or alias_domains_visible_to(actor).filter(name=name).exists()
            )
        return seen[name]

    return may_see


def check_alias_expansion(
    *,
    address: str,
    destinations: Sequence[str],
    actor: Actor = None,
    may_see: Callable[[str], bool] | None = None,
) -> None:
    """Raise ValidationError({"destinations": ...}) when Postfix would defer mail to the alias
    `address` with these destinations. The message names the path, without the addresses of
    domains `actor` does not administer (or that `may_see` hides)."""
    problem = alias_expansion_problems({address: destinations}).get(address)
    if problem is not None:
        shown = may_see if may_see is not None else visible_to(actor)
        raise ValidationError({"destinations": describe(problem, may_see=shown)})


def aliases_pointing_at(addresses: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """{alias address: its destinations} of the active aliases that list one of `addresses`:
    the aliases whose expansion changes when those addresses change how they answer."""
    rows = (
        AliasDestination.objects.filter(
            alias__in=Alias.objects.filter(destinations__address__in=list(addresses), active=True)
        )
        .order_by()
        .values_list("alias__local_part", "alias__domain__name", "address")
    )
    found: dict[str, list[str]] = {}
    for local_part, domain, address in rows:
        found.setdefault(f"{local_part}@{domain}", []).append(address)
    return {alias: tuple(destinations) for alias, destinations in found.items()}
