"""Reads of a mailbox's filters and vacation reply, and the script they make.

The mailbox itself is found and scoped by the caller: the owner's session (selfservice), or
mailboxes.selectors for an admin (a mailbox outside their domains is a 404 there). What is
read here is always about that one mailbox.
"""

from __future__ import annotations

from django.http import Http404

from domains.models import AliasDomain
from mailboxes.models import Mailbox
from selfservice.selectors import alias_domain_addresses, aliases_delivering_to
from sieve import script
from sieve.models import FilterRule, SieveSettings, Vacation


def answerable_addresses(mailbox: Mailbox) -> list[str]:
    """The addresses whose mail reaches this mailbox and that its vacation reply may answer
    for: its own, the active aliases that list it (catch-alls aside: they have no address of
    their own), and each of these in the active alias domains of its domain. Its own address
    first, then in order of domain and local part."""
    own = [mailbox.address, *alias_domain_addresses(mailbox)]
    delivering = [alias for alias in aliases_delivering_to(mailbox) if not alias.is_catchall]
    # The alias domains of all these aliases' domains in one query, not one per alias.
    names_of: dict[int, list[str]] = {}
    rows = AliasDomain.objects.filter(
        active=True, target_id__in={alias.domain_id for alias in delivering}
    ).values_list("target_id", "name")
    for target_id, name in rows.order_by("name"):
        names_of.setdefault(target_id, []).append(name)
    aliases: list[str] = []
    for alias in delivering:
        aliases.append(alias.address)
        aliases += [f"{alias.local_part}@{name}" for name in names_of.get(alias.domain_id, [])]
    return list(dict.fromkeys(own + aliases))


def vacation_of(mailbox: Mailbox) -> Vacation | None:
    """The mailbox's vacation reply, on or off; None: it never had one."""
    return Vacation.objects.filter(mailbox=mailbox).first()


def filter_rules_of(mailbox: Mailbox) -> list[FilterRule]:
    """The mailbox's filter rules in order, the switched-off ones included."""
    return list(FilterRule.objects.filter(mailbox=mailbox).order_by("position"))


def filter_rule_get(*, mailbox: Mailbox, pk: int) -> FilterRule:
    """One rule of this mailbox; any other rule is a 404."""
    try:
        return FilterRule.objects.get(mailbox=mailbox, pk=pk)
    except (FilterRule.DoesNotExist, ValueError, TypeError):
        raise Http404("no such filter rule") from None


def spam_to_junk_of(mailbox: Mailbox) -> bool:
    settings = SieveSettings.objects.filter(mailbox=mailbox).first()
    return True if settings is None else settings.spam_to_junk


def script_text(mailbox: Mailbox) -> str:
    """The script the mailbox's settings make now (sieve/script.py)."""
    rules = [
        script.Rule(
            condition=rule.condition,
            match=rule.match,
            value=rule.value,
            action=rule.action,
            header_name=rule.header_name,
            folder=rule.folder,
            forward_to=rule.forward_to,
            keep_copy=rule.keep_copy,
        )
        for rule in filter_rules_of(mailbox)
        if rule.enabled
    ]
    vacation = vacation_of(mailbox)
    reply = None
    if vacation is not None and vacation.enabled:
        chosen = list(vacation.addresses)
        reply = script.Reply(
            from_address=mailbox.address,
            subject=vacation.subject,
            body=vacation.body,
            days=vacation.days,
            addresses=tuple(chosen or answerable_addresses(mailbox)),
            chosen=bool(chosen),
            start=vacation.start,
            end=vacation.end,
        )
    return script.render(spam_to_junk=spam_to_junk_of(mailbox), rules=rules, vacation=reply)
