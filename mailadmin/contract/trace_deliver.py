"""Delivery of each final recipient: trivial-rewrite's transport_maps, then virtual_transport
(Dovecot LMTP, or virtual(8) with MAILADMIN_DELIVERY=virtual) with the mailbox from
virtual_mailbox_maps and its owner from virtual_uid_maps/virtual_gid_maps (Dovecot's userdb
reads the same rows), or the relay, or the outside."""

from __future__ import annotations

from django.conf import settings

from mailadmin.contract.trace_engine import Tracer
from mailadmin.contract.trace_notes import address_notes
from mailadmin.contract.trace_types import BOUNCE, DEFER, HIDDEN, INFO, OK, Lookup, Step, Trace


def deliver(tracer: Tracer, result: Trace, address: str) -> None:
    """Where one final recipient of the expansion goes, or why it does not."""
    domain = address.rpartition("@")[2]
    if not tracer.may_see(domain):
        tracer.finish(result, Step("deliver", "deliver_hidden", HIDDEN, {"address": address}))
        return
    kind, asked = tracer.domain_class(domain)
    params: dict[str, object] = {"address": address, "domain": domain}
    if kind == "foreign":
        step = Step("deliver", "deliver_external", OK, params, asked)
        tracer.finish(result, step)
        return
    if kind == "local":
        tracer.finish(result, Step("deliver", "deliver_local", OK, params))
        return
    if kind == "alias":
        # Still in an alias domain after expansion: trivial-rewrite hands it to error(8).
        step = Step("deliver", "deliver_unknown_alias", BOUNCE, params, asked)
        tracer.finish(result, step)
        return
    # trivial-rewrite: the address, the address without its extension, then the domain.
    asked += tracer.find("transport_maps", address)
    transport = asked[-1]
    if not transport.found:
        transport = tracer.db.ask("transport_maps", domain)
        asked.append(transport)
    _deliver_fallback(tracer, result, address, transport)
    if kind == "relay":
        if transport.found:
            params["transport"] = transport.rows[0]
            tracer.finish(result, Step("deliver", "deliver_relay", OK, params, asked))
        else:
            tracer.finish(result, Step("deliver", "deliver_relay_mx", OK, params, asked))
        return
    if transport.found and not transport.rows[0].startswith("virtual:"):
        params["transport"] = transport.rows[0]
        tracer.finish(result, Step("deliver", "deliver_transport", OK, params, asked))
        if transport.rows[0].startswith("lmtp:"):
            _dropped_note(tracer, result, address, "note_extension_dropped_lmtp")
        return
    _virtual(tracer, result, address, params, asked)


def _deliver_fallback(tracer: Tracer, result: Trace, address: str, lookup: Lookup) -> None:
    """A delivery table answered the address without its extension: say so."""
    fallback = tracer.fallback(address, lookup)
    if fallback is not None:
        fallback["table"] = lookup.table
        result.steps.append(Step("deliver", "note_extension_fallback", INFO, fallback))


def _dropped_note(tracer: Tracer, result: Trace, address: str, code: str) -> None:
    if address in tracer.dropped:
        params: dict[str, object] = {"address": address, "extension": tracer.dropped[address]}
        result.steps.append(Step("deliver", code, INFO, params))


def _virtual(
    tracer: Tracer, result: Trace, address: str, params: dict[str, object], asked: list[Lookup]
) -> None:
    """virtual(8): the mailbox path and its owner, or a bounce for an unknown user."""
    # mail_addr_find(3) for each table: the address, then without its extension.
    asked += tracer.find("virtual_mailbox_maps", address)
    mailbox = asked[-1]
    if not mailbox.found:
        tracer.finish(result, Step("deliver", "deliver_unknown_mailbox", BOUNCE, params, asked))
        result.steps += address_notes(
            tracer.notes, address, depth=0, bare=tracer.split(address).bare
        )
        return
    _deliver_fallback(tracer, result, address, mailbox)
    asked += tracer.find("virtual_uid_maps", address)
    uid = asked[-1]
    asked += tracer.find("virtual_gid_maps", address)
    gid = asked[-1]
    path = mailbox.rows[0]
    base = str(settings.MAILADMIN_MAIL_BASE).rstrip("/")
    params.update(
        path=path,
        full_path=f"{base}/{path}",
        uid=uid.rows[0] if uid.found else "",
        gid=gid.rows[0] if gid.found else "",
        minimum_uid=settings.MAILADMIN_MIN_UID,
    )
    if not uid.found or not gid.found:
        code, outcome = "deliver_no_owner", DEFER
    elif int(uid.rows[0]) < settings.MAILADMIN_MIN_UID:
        code, outcome = "deliver_uid_too_low", DEFER
    elif path.endswith("/"):
        code, outcome = "deliver_maildir", OK
    else:
        code, outcome = "deliver_mbox", OK
    lmtp = settings.MAILADMIN_DELIVERY == "lmtp"
    if outcome == OK and lmtp:
        code += "_lmtp"
    tracer.finish(result, Step("deliver", code, outcome, params, asked))
    if outcome == OK:
        dropped = "note_extension_dropped_lmtp" if lmtp else "note_extension_dropped_virtual"
        _dropped_note(tracer, result, address, dropped)
