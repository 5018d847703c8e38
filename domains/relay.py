"""Writes of relay recipient lists: the local parts a relay or backup-MX domain accepts.

Postfix refuses mail for any other local part of such a domain at RCPT TO (relay_recipient_maps
over the contract views), instead of accepting it and bouncing it later to a sender who is
often forged (backscatter), unless the domain accepts every recipient
(Domain.relay_accept_any, a superadmin's choice: domains.services.domain_update).

The list of one's own relay domain is a domain admin's business, as its mailboxes would be for
a hosted domain: the panel, the CLI and the import all write it through this module and
`check_relay_domain`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import new_entry, record, record_many
from domains.models import Domain, RelayRecipient
from domains.selectors import domains_visible_to
from mailadmin.access import Actor
from mailadmin.names import normalize_local_part


def check_relay_domain(domain: Domain) -> None:
    """Only a relay or backup-MX domain has a recipient list (a hosted domain's recipients are
    its mailboxes and aliases)."""
    check_relay_delivery(name=domain.name, hosted=domain.is_hosted)


def check_relay_delivery(*, name: str, hosted: bool) -> None:
    """check_relay_domain for a domain known by its name and class (the import's view)."""
    if hosted:
        raise ValidationError(
            _(
                "%(name)s is hosted here: its recipients are its mailboxes and aliases. Only a "
                "relay or backup-MX domain has a list of relay recipients."
            )
            % {"name": name}
        )


def normalize_recipient(value: str) -> str:
    """A relay recipient's local part, by the rule of every address (mailadmin/names.py)."""
    try:
        return normalize_local_part(value)
    except ValidationError as exc:
        raise ValidationError({"local_part": exc}) from None


def _locked_domain(actor: Actor, domain: Domain) -> Domain:
    locked = domains_visible_to(actor).select_for_update().get(pk=domain.pk)
    check_relay_domain(locked)
    return locked


@transaction.atomic
def relay_recipient_add(*, actor: Actor, domain: Domain, local_part: str) -> RelayRecipient:
    """Accept mail for `local_part@domain` (a relay or backup domain the actor may see)."""
    locked = _locked_domain(actor, domain)
    canonical = normalize_recipient(local_part)
    if RelayRecipient.objects.filter(domain=locked, local_part=canonical).exists():
        raise ValidationError(
            {
                "local_part": _("%(address)s is already a relay recipient.")
                % {"address": f"{canonical}@{locked.name}"}
            },
            code="conflict",
        )
    recipient = RelayRecipient.objects.create(domain=locked, local_part=canonical)
    record(
        actor=actor,
        action="create",
        obj=recipient,
        domain=locked.name,
        changes={"local_part": canonical},
    )
    return recipient


@transaction.atomic
def relay_recipient_delete(*, actor: Actor, recipient: RelayRecipient) -> None:
    """Refuse mail for the recipient's address from now on (unless the domain accepts any)."""
    locked = (
        RelayRecipient.objects.select_for_update()
        .select_related("domain")
        .filter(domain__in=domains_visible_to(actor))
        .get(pk=recipient.pk)
    )
    record(actor=actor, action="delete", obj=locked, domain=locked.domain.name)
    locked.delete()


@transaction.atomic
def relay_recipients_replace(
    *, actor: Actor, domain: Domain, local_parts: Iterable[str]
) -> dict[str, int]:
    """Make the domain's list exactly `local_parts` (duplicates folded); returns how many
    were added and removed. Every local part is checked before anything is written."""
    locked = _locked_domain(actor, domain)
    wanted: set[str] = set()
    errors: list[ValidationError] = []
    for value in local_parts:
        try:
            wanted.add(normalize_local_part(value))
        except ValidationError as exc:
            errors.append(
                ValidationError(
                    _("“%(value)s”: %(reason)s")
                    % {"value": value, "reason": " ".join(exc.messages)}
                )
            )
    if errors:
        raise ValidationError({"local_part": errors})
    current = dict(RelayRecipient.objects.filter(domain=locked).values_list("local_part", "pk"))
    removed = [pk for lp, pk in current.items() if lp not in wanted]
    added = sorted(wanted - set(current))
    if removed:
        gone = RelayRecipient.objects.filter(pk__in=removed).select_related("domain")
        record_many(
            [new_entry(actor=actor, action="delete", obj=r, domain=locked.name) for r in gone]
        )
        gone.delete()
    if added:
        created = RelayRecipient.objects.bulk_create(
            [RelayRecipient(domain=locked, local_part=lp) for lp in added]
        )
        if any(r.pk is None for r in created):  # MariaDB returns no keys
            created = list(RelayRecipient.objects.filter(domain=locked, local_part__in=added))
        record_many(
            [
                new_entry(
                    actor=actor,
                    action="create",
                    obj=r,
                    domain=locked.name,
                    changes={"local_part": r.local_part},
                )
                for r in created
            ]
        )
    return {"added": len(added), "removed": len(removed)}
