"""The rows a mailbox or alias write locks before it checks a rule, and the counters it reads.

A write that checks a domain limit locks the domain row first and then reads the domain's
trigger-kept usage row (domains/usage_triggers.py): every writer that adds to a domain takes
the same lock, so two concurrent writes cannot both take the domain's last place, and the
counter costs one row read however big the domain is. Locks are taken mailbox first, then
its domain, in every service.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from domains.models import Domain, DomainUsage
from domains.selectors import domains_visible_to
from mailadmin.access import Actor
from mailadmin.writes import not_yours
from mailboxes import rules
from mailboxes.models import Alias, Mailbox


def hosted_domain_for_update(actor: Actor, domain_name: str) -> Domain:
    """The hosted domain `domain_name`, locked, if `actor` may write to it."""
    domain = domains_visible_to(actor).select_for_update().filter(name=domain_name).first()
    if domain is None:
        raise ValidationError({"address": not_yours(actor, domain_name)})
    rules.check_hosted(domain_name, hosted=domain.is_hosted)
    return domain


def usage(domain: Domain) -> DomainUsage:
    """The domain's counters; the caller holds the domain's lock, so they stay put until the
    write's own rows move them."""
    return DomainUsage.objects.get(domain_id=domain.pk)


def mailbox_for_update(actor: Actor, mailbox: Mailbox, *, lock_domain: bool = False) -> Mailbox:
    """The mailbox, locked, within `actor`'s domains; with `lock_domain` its domain is read
    again under its own lock, for a write that checks the domain's limits."""
    locked = (
        Mailbox.objects.select_for_update()
        .select_related("domain")
        .filter(domain__in=domains_visible_to(actor))
        .get(pk=mailbox.pk)
    )
    if lock_domain:
        # Limits are read from the locked row, not from what was loaded before the lock.
        locked.domain = Domain.objects.select_for_update().get(pk=locked.domain_id)
    return locked


def alias_for_update(actor: Actor, alias: Alias) -> Alias:
    return (
        Alias.objects.select_for_update()
        .select_related("domain")
        .filter(domain__in=domains_visible_to(actor))
        .get(pk=alias.pk)
    )
