"""What Postfix does with one recipient address, step by step, read from the contract views.

The trace asks the database exactly what Postfix asks it: the queries of the exported lookup
tables, with the same keys, in the same order, against the same views (trace_lookups.trace_query):
on MariaDB and SQLite the exported queries themselves; on PostgreSQL their view form
(queries.POSTFIX_QUERIES), since the exported tables call lookup functions
(queries.LOOKUP_FUNCTIONS) that answer as these queries (their bodies, or ordered probes tested
against them: probes.py) and that only the Postfix role may execute.
It follows an inbound message from a client that is neither in mynetworks nor authenticated:

1. smtpd, RCPT TO: check_recipient_access (a disabled mailbox, and every address of a
   disabled domain, is refused there), the address class of the domain
   (virtual_alias_domains, virtual_mailbox_domains, relay_domains; anything else is refused
   by reject_unauth_destination; a U-label finds its A-label in every table), then
   smtpd_reject_unlisted_recipient (the address must be in virtual_alias_maps, catch-all
   included, or in virtual_mailbox_maps; a relayed domain's in relay_recipient_maps).
2. cleanup: virtual_alias_maps expansion as cleanup_map1n.c does it: `user@domain`, then
   `@domain`; each result is expanded in turn (a first result "@other" is the same user in
   the other domain, virtual(5)); an address that expands to itself is kept; more than 1000
   rewrites of one address or 1000 addresses defers the message.
3. For each final recipient: transport_maps (full address, then domain), then virtual(8) with
   virtual_mailbox_maps and virtual_uid_maps/virtual_gid_maps, or the relay or the outside.

Address extensions (recipient_delimiter, settings.MAILADMIN_RECIPIENT_DELIMITER): every address
lookup asks the exact key first, then the key without the extension (split_address), then the
catch-all, as mail_addr_find(3) does; an entry found without the extension does not pass the
extension on (propagate_unmatched_extensions = canonical), so virtual(8) and Dovecot LMTP get
the address the mailbox stores.

The work is bounded whatever the data: the trace follows at most TRACE_LIMIT addresses past
the recipient (the first ones, in Postfix's order) and counts the rest of a wider expansion
without tracing it. Each address traced costs a handful of the exported queries, one key
each as Postfix sends them; sending many keys in one statement (a UNION ALL of the same
queries, or a join of the views with a list of keys) plans far slower on the views than the
single queries run (measured on PostgreSQL: 8.5 s against 1.9 s for 999 keys), so the bound
comes from the limit, not from batching.

Everything here only reads. Besides the Postfix lookups, the caller may hand in TraceNotes
(trace_notes.py): a few reads of mailadmin's own tables that explain a miss (an inactive
mailbox, alias or domain); those are notes, never decisions. The result holds codes and
parameters; the panel turns them into sentences.

This module is the entry point; the stages live beside it: trace_types (limits, outcomes,
results, split_address), trace_lookups (the queries), trace_engine (the state one trace
shares), trace_rcpt, trace_expand and trace_deliver (the three stages), trace_notes.
"""

from __future__ import annotations

from mailadmin.contract.trace_deliver import deliver
from mailadmin.contract.trace_engine import DomainFilter, Tracer
from mailadmin.contract.trace_expand import expand
from mailadmin.contract.trace_lookups import Lookups, expand_query
from mailadmin.contract.trace_notes import DomainState, TraceNotes, domain_notes
from mailadmin.contract.trace_rcpt import rcpt, split_notes
from mailadmin.contract.trace_types import (
    BOUNCE,
    DEFER,
    EXPANSION_LIMIT,
    HIDDEN,
    INFO,
    OK,
    RECURSION_LIMIT,
    REJECT,
    TRACE_LIMIT,
    Delivery,
    Lookup,
    Split,
    Step,
    Trace,
    split_address,
)

__all__ = [
    "BOUNCE",
    "DEFER",
    "EXPANSION_LIMIT",
    "HIDDEN",
    "INFO",
    "OK",
    "RECURSION_LIMIT",
    "REJECT",
    "TRACE_LIMIT",
    "Delivery",
    "DomainFilter",
    "DomainState",
    "Lookup",
    "Lookups",
    "Split",
    "Step",
    "Trace",
    "TraceNotes",
    "expand_query",
    "split_address",
    "trace_address",
]


def trace_address(
    address: str, *, may_see: DomainFilter | None = None, notes: TraceNotes | None = None
) -> Trace:
    """Trace `address` (lowercase; the domain as its A-label, or as the U-label an SMTPUTF8
    client sends, which every table maps to the A-label). `may_see(domain)` False hides
    what happens inside a domain the asking admin does not administer. `notes` explain misses
    from mailadmin's own tables; without them the trace has no notes."""
    tracer = Tracer(may_see, notes)
    # Postfix folds every key (ICU case folding for UTF-8): BÜCHER -> bücher.
    address = address.casefold()
    result = Trace(address)
    domain = address.rpartition("@")[2]
    kind, asked = tracer.domain_class(domain)
    step = Step("domain", f"domain_{kind}", INFO, {"domain": domain}, asked)
    result.steps.append(step)
    if asked and asked[-1].found and asked[-1].rows[0] != domain:
        # An SMTPUTF8 client's U-label: every table maps it to the stored A-label.
        a_label: dict[str, object] = {"domain": domain, "a_label": asked[-1].rows[0]}
        result.steps.append(Step("domain", "domain_unicode", INFO, a_label))
    result.steps += domain_notes(notes, domain)
    if kind != "foreign":
        result.steps += split_notes(tracer, address)
    if not rcpt(tracer, result, address, kind):
        result.verdict = "rejected"
        return result
    finals = expand(tracer, result, address)
    if finals is None:
        result.verdict = "deferred"
        return result
    for final in finals:
        deliver(tracer, result, final)
    result.verdict = "partial" if result.untraced else "accepted"
    return result
