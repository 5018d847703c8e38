"""Sentences for the address trace: the engine (mailadmin/contract/trace.py) gives codes and
parameters, this module says them in the user's language. Addresses are shown in Unicode.

A lookup answer or a list of results longer than TRACE_LIMIT addresses shows its first ones
and how many more there are: the engine follows no more than those either."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mailadmin.contract.trace import TRACE_LIMIT, Lookup, Step, Trace
from mailboxes.display import unicode_address

STAGES: dict[str, Promise] = {
    "domain": _("Domain class (trivial-rewrite)"),
    "rcpt": _("RCPT TO (smtpd)"),
    "expand": _("Virtual alias expansion (cleanup)"),
    "deliver": _("Delivery"),
}

MESSAGES: dict[str, Promise] = {
    "domain_local": _(
        "%(domain)s is the machine itself (mydestination): local(8) delivers it, outside mailadmin."
    ),
    "domain_alias": _(
        "%(domain)s is an alias domain (virtual_alias_domains): each address must be "
        "rewritten by virtual_alias_maps."
    ),
    "domain_hosted": _("%(domain)s is hosted here (virtual_mailbox_domains)."),
    "domain_relay": _("%(domain)s is relayed or backed up by this server (relay_domains)."),
    "domain_foreign": _("%(domain)s is none of this server's domains."),
    "domain_unicode": _(
        "%(domain)s is the Unicode form (U-label) of %(a_label)s, as an SMTPUTF8 client sends "
        "it: every lookup finds the rows of %(a_label)s."
    ),
    "note_domain_inactive": _(
        "%(domain)s is disabled: it stays one of this server's domains, and every address in "
        "it is refused at RCPT TO, so that no client can relay its mail elsewhere."
    ),
    "note_alias_domain_inactive": _(
        "%(domain)s is a disabled alias domain: every address in it is refused at RCPT TO."
    ),
    "note_alias_domain_target_off": _(
        "%(domain)s is an alias domain of %(target)s, which is disabled or not hosted here: "
        "every address in it is refused at RCPT TO."
    ),
    "extension_split": _(
        "%(address)s has the address extension %(extension)s (recipient_delimiter "
        "%(delimiter)s): each table is asked for %(address)s first, then for %(bare)s, and only "
        "then for the catch-all."
    ),
    "extension_reserved": _(
        "%(address)s is looked up only as it is: Postfix never splits postmaster, MAILER-DAEMON "
        "or double-bounce at the recipient_delimiter (%(delimiter)s), nor owner-… and …-request "
        "when the delimiter is “-”."
    ),
    "extension_leading": _(
        "%(address)s is looked up only as it is: its local part starts with the "
        "recipient_delimiter (%(delimiter)s), and Postfix never leaves an empty local part."
    ),
    "rcpt_relay_denied": _(
        "Refused for a client that is neither in mynetworks nor logged in: %(reply)s. "
        "A logged-in client would be allowed to send it out."
    ),
    "rcpt_relay_accepted": _(
        "Accepted: the recipient is in relay_recipient_maps (listed, or the domain accepts "
        "every recipient)."
    ),
    "rcpt_unknown_relay": _(
        "Refused: the recipient is not in the domain's relay recipient list: %(reply)s"
    ),
    "rcpt_domain_disabled": _(
        "Refused: the domain is disabled, and the recipient access table says so for every "
        "client, local and logged-in ones too: %(reply)s"
    ),
    "rcpt_local_accepted": _("Handed to the machine's own delivery; mailadmin does not manage it."),
    "rcpt_access_refused": _(
        "Refused: the mailbox is disabled, and the recipient access table says so: %(reply)s"
    ),
    "rcpt_extension_access_refused": _(
        "Refused: no entry for %(address)s; %(key)s answered in the recipient access table "
        "(recipient_delimiter %(delimiter)s): the mailbox is disabled: %(reply)s"
    ),
    "rcpt_extension_relay": _(
        "Accepted: no entry for %(address)s; %(key)s answered in relay_recipient_maps "
        "(recipient_delimiter %(delimiter)s)."
    ),
    "rcpt_extension_alias": _(
        "Accepted: no entry for %(address)s; %(key)s answered in virtual_alias_maps "
        "(recipient_delimiter %(delimiter)s)."
    ),
    "rcpt_extension_mailbox": _(
        "Accepted: no entry for %(address)s; %(key)s answered in virtual_mailbox_maps "
        "(recipient_delimiter %(delimiter)s)."
    ),
    "rcpt_in_alias_maps": _("Accepted: the address is in virtual_alias_maps."),
    "rcpt_catchall": _("Accepted: the catch-all %(key)s answers in virtual_alias_maps."),
    "rcpt_in_mailbox_maps": _("Accepted: the address is in virtual_mailbox_maps."),
    "rcpt_unknown_hosted": _(
        "Refused: neither virtual_alias_maps nor virtual_mailbox_maps knows the address: %(reply)s"
    ),
    "rcpt_unknown_alias": _("Refused: virtual_alias_maps does not know the address: %(reply)s"),
    "expand_alias": _("%(address)s is rewritten to %(results)s."),
    "expand_catchall": _(
        "%(address)s has no entry of its own; the catch-all %(key)s rewrites it to %(results)s."
    ),
    "expand_extension": _(
        "No entry for %(address)s; %(key)s answered (recipient_delimiter %(delimiter)s) and "
        "rewrites it to %(results)s, without the extension (propagate_unmatched_extensions = "
        "canonical)."
    ),
    "expand_self": _(
        "%(address)s expands to itself: it is kept and not expanded again (the mailbox keeps "
        "a copy)."
    ),
    "expand_mailbox_self": _(
        "%(address)s answers for itself in virtual_alias_maps (a mailbox's own entry, which "
        "keeps the catch-all away from it): it stays as it is."
    ),
    "expand_none": _("%(address)s is not rewritten (no virtual_alias_maps entry)."),
    "expand_loop": _(
        "%(address)s is rewritten more than %(limit)s times (an alias loop): Postfix defers "
        "the message with “4.6.0 Alias expansion error” and the sender's server retries."
    ),
    "expand_too_many": _(
        "The expansion reaches more than %(limit)s addresses: Postfix defers the message "
        "(“4.6.0 Alias expansion error”)."
    ),
    "expand_not_traced": _(
        "The expansion goes on with %(more)s more addresses: the trace follows the first "
        "%(limit)s addresses only, so what Postfix does with the rest is not shown."
    ),
    "note_role_fallback": _(
        "%(address)s has no mailbox, alias or catch-all of its own: every hosted domain "
        "accepts it (RFC 5321, RFC 2142) for the server's postmaster address."
    ),
    "note_alias_inactive": _("An alias %(address)s exists but is disabled: Postfix ignores it."),
    "note_mailbox_inactive": _(
        "A mailbox %(address)s exists but is disabled: virtual_mailbox_maps does not answer."
    ),
    "deliver_maildir": _(
        "%(address)s: virtual(8) delivers to the Maildir %(full_path)s as uid %(uid)s, gid %(gid)s."
    ),
    "deliver_mbox": _(
        "%(address)s: virtual(8) appends to the mbox file %(full_path)s as uid %(uid)s, "
        "gid %(gid)s."
    ),
    "deliver_maildir_lmtp": _(
        "%(address)s: Dovecot LMTP delivers to the Maildir %(full_path)s as uid %(uid)s, "
        "gid %(gid)s, after the mailbox's quota and Sieve rules."
    ),
    "deliver_mbox_lmtp": _(
        "%(address)s: Dovecot LMTP appends to the mbox file %(full_path)s as uid %(uid)s, "
        "gid %(gid)s, after the mailbox's quota and Sieve rules."
    ),
    "deliver_transport": _(
        "%(address)s: transport_maps hands it to %(transport)s (Dovecot LMTP finds the "
        "mailbox in its userdb)."
    ),
    "deliver_relay": _("%(address)s: relayed to %(transport)s (transport_maps)."),
    "deliver_relay_mx": _("%(address)s: relayed to the mail exchangers (MX) of %(domain)s."),
    "deliver_external": _(
        "%(address)s: sent on by SMTP to the mail exchangers (MX) of %(domain)s."
    ),
    "deliver_local": _("%(address)s: delivered by local(8), outside mailadmin."),
    "deliver_unknown_alias": _(
        "%(address)s is still in an alias domain after expansion: the message bounces "
        "(User unknown in virtual alias table)."
    ),
    "deliver_unknown_mailbox": _(
        "%(address)s: virtual_mailbox_maps does not know it, so virtual(8) bounces the message "
        "to the sender (5.1.1 unknown user)."
    ),
    "deliver_no_owner": _(
        "%(address)s: no uid or gid is found: delivery is deferred (mail system configuration "
        "error)."
    ),
    "deliver_uid_too_low": _(
        "%(address)s: uid %(uid)s is below virtual_minimum_uid %(minimum_uid)s: delivery is "
        "deferred (mail system configuration error)."
    ),
    "note_extension_fallback": _(
        "No entry for %(address)s in %(table)s; %(key)s answered (recipient_delimiter "
        "%(delimiter)s)."
    ),
    "note_extension_dropped_lmtp": _(
        "Delivered to %(address)s, without the extension %(extension)s: Dovecot LMTP has no "
        "recipient_delimiter and receives the exact address."
    ),
    "note_extension_dropped_virtual": _(
        "Delivered to %(address)s, without the extension %(extension)s: virtual(8) receives the "
        "exact address."
    ),
    "deliver_hidden": _("%(address)s is outside your domains: what happens to it is not shown."),
}

VERDICTS: dict[str, Promise] = {
    "rejected": _("Refused at RCPT TO: the sending server gets “%(reply)s”."),
    "deferred": _("Accepted, then deferred: the message stays in the queue and is retried."),
    "accepted": _("Accepted."),
    "partial": _(
        "Accepted at RCPT TO. Only the first %(limit)s addresses of the expansion are traced; "
        "%(more)s more are not."
    ),
}

OUTCOMES: dict[str, Promise] = {
    "ok": _("ok"),
    "info": _("info"),
    "reject": _("refused"),
    "defer": _("deferred"),
    "bounce": _("bounced"),
    "hidden": _("not shown"),
}

_ADDRESS_PARAMS = ("address", "key", "bare")


def _first(items: list[str], *, separator: str = ", ", unicode: bool = True) -> str:
    """The first TRACE_LIMIT items, joined, and how many more there are."""
    head = [unicode_address(item) if unicode else item for item in items[:TRACE_LIMIT]]
    text = separator.join(head)
    rest = len(items) - len(head)
    if rest:
        text += " " + ngettext("and %(n)d more", "and %(n)d more", rest) % {"n": rest}
    return text


def _lookup(lookup: Lookup) -> dict[str, Any]:
    return {
        "table": lookup.table,
        "key": lookup.key,
        "query": lookup.query,
        "suppressed": lookup.suppressed,
        "found": lookup.found,
        # As postmap -q prints it (the rows joined with commas), cut after TRACE_LIMIT.
        "answer": _first(list(lookup.rows), separator=",", unicode=False),
    }


def _shown(params: dict[str, Any]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in params.items():
        if name == "results":
            items = value if isinstance(value, list | tuple) else [value]
            shown[name] = _first([str(v) for v in items])
        elif name in _ADDRESS_PARAMS:
            shown[name] = unicode_address(str(value))
        elif name in ("domain", "target"):
            shown[name] = unicode_address(f"@{value}")[1:]
        else:
            shown[name] = str(value)
    return shown


def describe(step: Step) -> str:
    return str(MESSAGES[step.code]) % _shown(step.params)


def render_trace(trace: Trace) -> dict[str, Any]:
    """The trace as the template shows it: sentences, outcomes and the lookups made."""
    steps = [
        {
            "stage": STAGES[step.stage],
            "text": describe(step),
            "outcome": step.outcome,
            "outcome_label": OUTCOMES[step.outcome],
            "depth": step.depth,
            "lookups": [_lookup(lookup) for lookup in step.lookups],
        }
        for step in trace.steps
    ]
    verdict = str(VERDICTS[trace.verdict]) % {
        "reply": trace.reply,
        "limit": TRACE_LIMIT,
        "more": trace.untraced,
    }
    return {
        "address": unicode_address(trace.address),
        "raw_address": trace.address,
        "steps": steps,
        "verdict": trace.verdict,
        "verdict_text": verdict,
        "deliveries": [
            {
                "address": unicode_address(d.address),
                "outcome": d.outcome,
                "outcome_label": OUTCOMES[d.outcome],
            }
            for d in trace.deliveries
        ],
    }
