"""Writes of aliases, and of a mailbox's forwarding (the alias with the mailbox's address).

The admin's alias pages, the CLI and the owners' self-service all write aliases here, under the
rules of mailboxes/rules.py: a new alias row, forwarding included, takes a place under the
domain's max_aliases (its usage counter, read under the domain's lock), and no destination may
make Postfix defer the mail (mailboxes/loops.py). `from mailboxes.services import ...` offers
these too.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import diff, record, record_changes
from domains.models import Domain
from mailadmin.access import Actor
from mailadmin.writes import Checks, save_checked
from mailboxes import rules
from mailboxes.locks import alias_for_update, hosted_domain_for_update, mailbox_for_update, usage
from mailboxes.loops import check_alias_expansion, visible_to
from mailboxes.models import Alias, AliasDestination, Mailbox
from mailboxes.unknown_destinations import check_destinations_exist

FORWARDING_DESCRIPTION = "Forwarding set by the mailbox owner"


def _check_room(domain: Domain, *, for_owner: bool = False) -> None:
    """A new alias row needs a place under the locked domain's max_aliases."""
    if domain.max_aliases:
        rules.check_room_for_alias(domain, aliases=usage(domain).aliases, for_owner=for_owner)


def _clean_destinations(
    alias_address: str,
    destinations: Iterable[str],
    domain: Domain,
    local_part: str,
    *,
    actor: Actor,
) -> list[str]:
    cleaned = rules.clean_destinations(destinations)
    if alias_address in cleaned:
        is_mailbox = bool(local_part) and domain.mailboxes.filter(local_part=local_part).exists()
        rules.check_self_destination(alias_address, cleaned, is_mailbox=is_mailbox)
    # A loop through other aliases (or too big an expansion) makes Postfix defer the mail;
    # an address of ours that nothing answers for makes it bounce.
    check_alias_expansion(address=alias_address, destinations=cleaned, actor=actor)
    check_destinations_exist(
        address=alias_address, destinations=cleaned, may_check=visible_to(actor)
    )
    return cleaned


def _lists_itself(address: str, destinations: Iterable[str]) -> bool:
    try:
        return address in rules.normalize_destinations(destinations)
    except ValidationError:
        return False  # the destinations' own check names what is wrong with them


def _insert(
    domain: Domain, local_part: str, destinations: list[str], *, description: str, active: bool
) -> Alias:
    alias = Alias(domain=domain, local_part=local_part, description=description, active=active)
    save_checked(alias, conflict=rules.alias_exists(f"{local_part}@{domain.name}"))
    AliasDestination.objects.bulk_create(
        AliasDestination(alias=alias, address=a) for a in destinations
    )
    return alias


def _destinations_of(alias: Alias | None) -> list[str]:
    return sorted(alias.destinations.values_list("address", flat=True)) if alias else []


def _replace_destinations(alias: Alias, destinations: list[str], *, before: list[str]) -> None:
    """Make the alias's destinations exactly `destinations` (`before`: what they are)."""
    alias.destinations.exclude(address__in=destinations).delete()
    AliasDestination.objects.bulk_create(
        AliasDestination(alias=alias, address=a) for a in destinations if a not in before
    )
    alias.save(update_fields=["updated_at"])


@transaction.atomic
def alias_create(
    *,
    actor: Actor,
    address: str,
    destinations: Iterable[str],
    description: str = "",
    active: bool = True,
    mailbox_copy: bool | None = None,
) -> Alias:
    """Create an alias; `@domain` is the domain's catch-all.

    An alias at a mailbox's address takes all of that address's mail (the contract: an active
    alias answers before the mailbox). Unless it lists the address itself (a copy stays), the
    writer says which it means: `mailbox_copy` True adds the address to the destinations,
    False forwards only; None is refused, so the mailbox never goes quiet by accident.
    """
    local_part, domain_name = rules.split_address(address, allow_catchall=True)
    domain = hosted_domain_for_update(actor, domain_name)
    alias_address = f"{local_part}@{domain.name}"
    destinations = list(destinations)
    if local_part and domain.mailboxes.filter(local_part=local_part).exists():
        if mailbox_copy:
            destinations.append(alias_address)
        elif mailbox_copy is None and not _lists_itself(alias_address, destinations):
            raise ValidationError({"destinations": rules.alias_at_mailbox(alias_address)})
    # Every mistake at once: the address taken, the domain full, the destinations.
    checks = Checks()
    with checks:
        if domain.aliases.filter(local_part=local_part).exists():
            raise ValidationError({"address": rules.alias_exists(alias_address)})
        # Only a free address takes a place: a taken one is reported, not the full domain.
        _check_room(domain)
    cleaned: list[str] = []
    with checks:
        cleaned = _clean_destinations(alias_address, destinations, domain, local_part, actor=actor)
    checks.raise_errors()
    alias = _insert(domain, local_part, cleaned, description=description.strip(), active=active)
    record(
        actor=actor,
        action="create",
        obj=alias,
        domain=domain.name,
        changes={"destinations": cleaned, "description": alias.description, "active": active},
    )
    return alias


@transaction.atomic
def alias_set_destinations(*, actor: Actor, alias: Alias, destinations: Iterable[str]) -> Alias:
    alias = alias_for_update(actor, alias)
    cleaned = _clean_destinations(
        alias.address, destinations, alias.domain, alias.local_part, actor=actor
    )
    before = _destinations_of(alias)
    _replace_destinations(alias, cleaned, before=before)
    if before != sorted(cleaned):
        record(
            actor=actor,
            action="update",
            obj=alias,
            domain=alias.domain.name,
            changes={"destinations": [before, sorted(cleaned)]},
        )
    return alias


@transaction.atomic
def alias_set_active(*, actor: Actor, alias: Alias, active: bool) -> Alias:
    alias = alias_for_update(actor, alias)
    if active and not alias.active:
        # Switching an alias on adds its destinations to what Postfix expands: the same
        # loop rule as writing them.
        destinations = list(alias.destinations.values_list("address", flat=True))
        check_alias_expansion(address=alias.address, destinations=destinations, actor=actor)
    changed = diff({"active": alias.active}, {"active": active})
    record_changes(actor=actor, obj=alias, domain=alias.domain.name, changes=changed)
    alias.active = active
    alias.save(update_fields=["active", "updated_at"])
    return alias


@transaction.atomic
def alias_delete(*, actor: Actor, alias: Alias) -> None:
    locked = alias_for_update(actor, alias)
    record(actor=actor, action="delete", obj=locked, domain=locked.domain.name)
    locked.delete()


def _shows_no_domain(_name: str) -> bool:
    # An owner is told the addresses they typed, never how other aliases go on.
    return False


@transaction.atomic
def forwarding_set(
    *,
    actor: Actor,
    mailbox: Mailbox,
    destinations: Iterable[str],
    keep_copy: bool,
    by_owner: bool = False,
) -> Mailbox:
    """Forward the mailbox's mail to `destinations`, keeping a copy in it or not.

    Forwarding is the alias with the mailbox's own address (the alias decides where that
    address's mail goes; listing the address itself keeps a copy, docs/mail-stack.md), so
    Postfix sees it through the contract views as they are. No destinations: no alias, and the
    mailbox receives its mail as before. A new forwarding is a new alias row under the rules of
    every alias; changing or ending one adds none.

    `by_owner`: the mailbox's owner writes it (selfservice applied the owner's limits first):
    the audit names the owner by address, a loop is told with the addresses they typed only,
    and a forwarding alias an admin switched off stays off.
    """
    locked = mailbox_for_update(actor, mailbox, lock_domain=True)
    cleaned = rules.normalize_destinations(destinations)
    alias = (
        Alias.objects.select_for_update()
        .filter(domain_id=locked.domain_id, local_part=locked.local_part)
        .first()
    )
    if by_owner and alias is not None and not alias.active:
        raise ValidationError(
            {"destinations": _("Your mail administrator has switched off forwarding for you.")}
        )
    own = locked.address
    wanted = sorted({*cleaned, own} if cleaned and keep_copy else set(cleaned))
    before = _destinations_of(alias)
    if wanted:
        if alias is None:
            _check_room(locked.domain, for_owner=by_owner)
        # A destination that leads back here without the copy makes a loop that defers all
        # of the mailbox's mail; with the copy, Postfix stops at the mailbox's own address.
        check_alias_expansion(
            address=own,
            destinations=wanted,
            actor=actor,
            may_see=_shows_no_domain if by_owner else None,
        )
        # An owner learns only whether addresses of their own domain exist.
        check_destinations_exist(
            address=own,
            destinations=wanted,
            may_check=(lambda name: name == locked.domain.name) if by_owner else visible_to(actor),
        )
        if alias is None:
            _insert(
                locked.domain,
                locked.local_part,
                wanted,
                description=FORWARDING_DESCRIPTION,
                active=True,
            )
        else:
            _replace_destinations(alias, wanted, before=before)
    elif alias is not None:
        alias.delete()
    if before != wanted:
        record(
            actor=actor,
            actor_label=own if by_owner else "",
            action="forwarding",
            obj=locked,
            domain=locked.domain.name,
            changes={"destinations": [before, wanted]},
        )
    return locked
