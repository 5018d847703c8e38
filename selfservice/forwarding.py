"""The owner's forwarding: the owner's limits, then the mailbox services' forwarding write.

selfservice.services offers these too. What the owner may forward to is the domain admin's
choice (Domain.owner_forwarding, max_forwards; docs/self-service.md); every other rule (the
domain's alias limit, loops) is the rule of every alias, applied by
mailboxes.alias_services.forwarding_set.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from domains.models import AliasDomain, Domain, OwnerForwarding
from mailboxes import rules
from mailboxes.alias_services import forwarding_set
from mailboxes.locks import mailbox_for_update
from mailboxes.models import Mailbox
from selfservice.selectors import ForwardingState, forwarding_of


def _local_domain_names(names: set[str]) -> set[str]:
    found = set(Domain.objects.filter(name__in=names).values_list("name", flat=True))
    found |= set(AliasDomain.objects.filter(name__in=names).values_list("name", flat=True))
    return found


def _own_addresses(mailbox: Mailbox) -> set[str]:
    """The mailbox's address in its domain and in each alias domain of it: forwarding to any of
    them would send the mail round in a loop."""
    names = [mailbox.domain.name, *mailbox.domain.alias_domains.values_list("name", flat=True)]
    return {f"{mailbox.local_part}@{name}" for name in names}


def clean_forwarding(mailbox: Mailbox, destinations: Iterable[str]) -> list[str]:
    """Normalised destinations within the domain's limits for owners."""
    domain = mailbox.domain
    if domain.owner_forwarding == OwnerForwarding.OFF:
        raise ValidationError(
            {"destinations": _("Your mail administrator does not allow forwarding.")}
        )
    cleaned = rules.normalize_destinations(value for value in destinations if value.strip())
    own = _own_addresses(mailbox)
    if own & set(cleaned):
        raise ValidationError(
            {
                "destinations": _(
                    "Do not forward to your own address: tick “keep a copy” to keep one."
                )
            }
        )
    if domain.max_forwards and len(cleaned) > domain.max_forwards:
        raise ValidationError(
            {
                "destinations": ngettext(
                    "You may forward to at most %(n)d address.",
                    "You may forward to at most %(n)d addresses.",
                    domain.max_forwards,
                )
                % {"n": domain.max_forwards}
            }
        )
    if domain.owner_forwarding == OwnerForwarding.LOCAL:
        wanted = {address.rpartition("@")[2] for address in cleaned}
        outside = sorted(wanted - _local_domain_names(wanted))
        if outside:
            raise ValidationError(
                {
                    "destinations": _(
                        "You may forward only to domains of this mail server, not to %(names)s."
                    )
                    % {"names": ", ".join(outside)}
                }
            )
    return cleaned


@transaction.atomic
def owner_set_forwarding(
    *, mailbox: Mailbox, destinations: Iterable[str], keep_copy: bool
) -> ForwardingState:
    """The owner forwards the mailbox's mail to `destinations`, keeping a copy or not; none:
    forwarding is off (mailboxes.alias_services.forwarding_set)."""
    # The owner's limits are read from the rows the write locks: the mailbox, then its domain.
    locked = mailbox_for_update(None, mailbox, lock_domain=True)
    cleaned = clean_forwarding(locked, destinations)
    forwarding_set(
        actor=None, mailbox=locked, destinations=cleaned, keep_copy=keep_copy, by_owner=True
    )
    return forwarding_of(locked)
