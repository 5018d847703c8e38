"""smtpd at RCPT TO, for a client that is neither in mynetworks nor authenticated:
check_recipient_access, reject_unauth_destination and smtpd_reject_unlisted_recipient."""

from __future__ import annotations

from mailadmin.contract.trace_engine import Tracer
from mailadmin.contract.trace_notes import address_notes
from mailadmin.contract.trace_types import INFO, OK, REJECT, Step, Trace
from mailadmin.contract.views_v1 import DOMAIN_DISABLED_ACTION


def split_notes(tracer: Tracer, address: str) -> list[Step]:
    """How recipient_delimiter cuts the recipient, or why it keeps it whole."""
    split = tracer.split(address)
    if split.bare:
        params: dict[str, object] = {
            "address": address,
            "bare": split.bare,
            "extension": split.extension,
            "delimiter": tracer.delimiter,
        }
        return [Step("rcpt", "extension_split", INFO, params)]
    if split.kept:
        params = {"address": address, "delimiter": tracer.delimiter}
        return [Step("rcpt", f"extension_{split.kept}", INFO, params)]
    return []


def rcpt(tracer: Tracer, result: Trace, address: str, kind: str) -> bool:
    """smtpd's RCPT TO checks for an unauthenticated client from outside mynetworks."""
    if kind == "foreign":
        result.reply = f"554 5.7.1 <{address}>: Relay access denied"
        result.steps.append(Step("rcpt", "rcpt_relay_denied", REJECT, {"reply": result.reply}))
        return False
    # check_recipient_access comes first in smtpd_recipient_restrictions: a disabled
    # mailbox is refused there, before any other table is asked.
    accessed = tracer.find("recipient_access", address)
    access = accessed[-1]
    if access.found:
        # The answer is "550 5.2.1 Mailbox disabled" (or "Domain disabled"); smtpd puts
        # the address in between. It comes before permit_mynetworks: every client gets it.
        answer = access.answer or ""
        code, status, text = answer.split(" ", 2)
        result.reply = f"{code} {status} <{address}>: Recipient address rejected: {text}"
        refused = "rcpt_domain_disabled" if answer == DOMAIN_DISABLED_ACTION else None
        params: dict[str, object] = {"reply": result.reply}
        fallback = tracer.fallback(address, access)
        if refused is None and fallback is not None:
            refused = "rcpt_extension_access_refused"
            params.update(fallback)
        result.steps.append(
            Step("rcpt", refused or "rcpt_access_refused", REJECT, params, accessed)
        )
        if refused != "rcpt_domain_disabled":
            result.steps += address_notes(
                tracer.notes, address, depth=0, bare=tracer.split(address).bare
            )
        return False
    if kind == "local":
        result.steps.append(Step("rcpt", "rcpt_local_accepted", OK, {}))
        return True
    if kind == "relay":
        asked = [*accessed, *tracer.find("relay_recipient_maps", address)]
        listed = asked[-1]
        if listed.found:
            fallback = tracer.fallback(address, listed)
            code = "rcpt_relay_accepted" if fallback is None else "rcpt_extension_relay"
            result.steps.append(Step("rcpt", code, OK, fallback or {}, asked))
            return True
        result.reply = (
            f"550 5.1.1 <{address}>: Recipient address rejected: "
            "User unknown in relay recipient table"
        )
        result.steps.append(
            Step("rcpt", "rcpt_unknown_relay", REJECT, {"reply": result.reply}, asked)
        )
        return False
    asked = [*accessed, *tracer.find("virtual_alias_maps", address, catchall=True)]
    if asked[-1].found:
        fallback = tracer.fallback(address, asked[-1])
        if fallback is not None:
            result.steps.append(Step("rcpt", "rcpt_extension_alias", OK, fallback, asked))
            return True
        code = "rcpt_in_alias_maps" if asked[-1].key == address else "rcpt_catchall"
        result.steps.append(Step("rcpt", code, OK, {"key": asked[-1].key}, asked))
        return True
    if kind == "hosted":
        asked += tracer.find("virtual_mailbox_maps", address)
        if asked[-1].found:
            fallback = tracer.fallback(address, asked[-1])
            code = "rcpt_in_mailbox_maps" if fallback is None else "rcpt_extension_mailbox"
            result.steps.append(Step("rcpt", code, OK, fallback or {}, asked))
            return True
        table = "virtual mailbox"
    else:
        table = "virtual alias"
    result.reply = (
        f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in {table} table"
    )
    result.steps.append(
        Step("rcpt", f"rcpt_unknown_{kind}", REJECT, {"reply": result.reply}, asked)
    )
    result.steps += address_notes(tracer.notes, address, depth=0, bare=tracer.split(address).bare)
    return False
