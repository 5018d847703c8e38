"""cleanup's virtual alias expansion, as cleanup_map1n.c does it: `user@domain`, then
`@domain`, each result expanded in turn, within Postfix's recursion and expansion limits and
the trace's own TRACE_LIMIT."""

from __future__ import annotations

from mailadmin.contract.trace_engine import Tracer
from mailadmin.contract.trace_notes import alias_notes
from mailadmin.contract.trace_types import (
    DEFER,
    EXPANSION_LIMIT,
    INFO,
    RECURSION_LIMIT,
    TRACE_LIMIT,
    Step,
    Trace,
)


def expand(tracer: Tracer, result: Trace, address: str) -> list[str] | None:
    """cleanup_map1n: rewrite each address in place until it stops changing."""
    addresses = [address]
    fixed: set[str] = set()  # addresses that expanded into themselves
    shown: set[str] = set()
    followed: set[str] = set()  # addresses past the recipient, at most TRACE_LIMIT
    depth_of = {address: 0}
    index = 0
    while index < len(addresses):
        if len(addresses) > EXPANSION_LIMIT:
            result.steps.append(
                Step("expand", "expand_too_many", DEFER, {"limit": EXPANSION_LIMIT})
            )
            return None
        count = 0
        while True:
            current = addresses[index]
            depth = depth_of.get(current, 0)
            if current in fixed:
                break
            if current != address and current not in followed:
                if len(followed) >= TRACE_LIMIT:
                    # This slot and the ones after it are not traced; the ones before are
                    # final (each was rewritten until nothing answered).
                    result.untraced = len(addresses) - index
                    rest: dict[str, object] = {"limit": TRACE_LIMIT, "more": result.untraced}
                    result.steps.append(Step("expand", "expand_not_traced", INFO, rest))
                    return list(dict.fromkeys(addresses[:index]))
                followed.add(current)
            if not tracer.may_see(current.rpartition("@")[2]):
                break
            if count >= RECURSION_LIMIT:
                result.steps.append(
                    Step(
                        "expand",
                        "expand_loop",
                        DEFER,
                        {"address": current, "limit": RECURSION_LIMIT},
                    )
                )
                return None
            asked = tracer.find("virtual_alias_maps", current, catchall=True)
            found = asked[-1] if asked[-1].found else None
            first_time = current not in shown
            shown.add(current)
            if found is None:
                if first_time:
                    result.steps.append(
                        Step("expand", "expand_none", INFO, {"address": current}, asked, depth)
                    )
                break
            rows = [row.lower() for row in found.rows]
            split = tracer.split(current)
            # Found without the extension: it is not passed on to the results
            # (propagate_unmatched_extensions = canonical).
            stripped = bool(split.bare) and found.key == split.bare
            if rows[0].startswith("@"):
                # An alias domain's catch-all answers "@target": the same user there
                # (mail_addr_map: the whole local part, less an extension left unmatched).
                user = (split.bare if stripped else current).rpartition("@")[0]
                rows[0] = user + rows[0]
            # A mailbox answers for itself (so that a catch-all never takes its mail).
            only_itself = [row.lower() for row in rows] == [current]
            if first_time:
                code = "expand_alias" if found.key == current else "expand_catchall"
                if only_itself and found.key == current:
                    code = "expand_mailbox_self"
                params: dict[str, object] = {
                    "address": current,
                    "key": found.key,
                    "results": rows,
                }
                if stripped:
                    code = "expand_extension"
                    params["delimiter"] = tracer.delimiter
                result.steps.append(Step("expand", code, INFO, params, asked, depth))
                result.steps += alias_notes(
                    tracer.notes, current, found.key, depth, rows, split.bare
                )
            extension = split.extension if stripped else tracer.dropped.get(current)
            for position, target in enumerate(rows):
                depth_of.setdefault(target, depth + 1)
                if extension and target != current:
                    tracer.dropped.setdefault(target, extension)
                if position == 0:
                    addresses[index] = target
                else:
                    addresses.append(target)
                if target == current:
                    fixed.add(current)
                    if first_time and not only_itself:
                        result.steps.append(
                            Step("expand", "expand_self", INFO, {"address": current}, [], depth)
                        )
            count += 1
        index += 1
    # cleanup drops duplicate recipients (case-insensitive) before the queue file is written.
    return list(dict.fromkeys(addresses))
