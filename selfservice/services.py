"""Writes of the owners' self-service, and the admin controls over it.

Mailbox owners are not Django users: their actor is None (the services trust the mailbox the
owner's session names, see selfservice.session) and the audit names them by address. Admin
controls take `actor=` and are scoped through domains.selectors like every other write.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import throttle
from accounts.models import LoginKind
from audit.services import diff, record
from domains.models import AliasDomain, Domain, DomainUsage, OwnerForwarding
from domains.selectors import domains_visible_to
from mailadmin import passwords
from mailadmin.access import Actor, require_superadmin
from mailadmin.names import normalize_address, split_address
from mailboxes.loops import check_alias_expansion
from mailboxes.models import Alias, AliasDestination, Mailbox
from selfservice.models import MIN_LENGTH_FLOOR, PasswordPolicy
from selfservice.policy import check_owner_password
from selfservice.selectors import ForwardingState, forwarding_alias, forwarding_of

FORWARDING_DESCRIPTION = "Forwarding set by the mailbox owner"


class OwnerLoginFailed(Exception):
    """Wrong address or password, or a mailbox that may not log in: deliberately one case."""


class OwnerLoginLocked(Exception):
    """The throttle makes this address wait `seconds` from this network."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


# --- login -------------------------------------------------------------------------------------


@cache
def _decoy_hash() -> str:
    # Verified when there is no such mailbox, so that an unknown address costs as much time
    # as a known one and the answer time does not tell which addresses exist.
    return passwords.hash_password(passwords.generate_password())


def may_log_in(mailbox: Mailbox) -> bool:
    """The mailbox is one Dovecot would authenticate, and its panel login is not disabled."""
    domain = mailbox.domain
    return bool(
        mailbox.active and domain.active and domain.is_hosted and mailbox.panel_login_enabled
    )


def _find_mailbox(address: str) -> Mailbox | None:
    try:
        local_part, domain_name = split_address(address)
    except ValidationError:
        return None
    return (
        Mailbox.objects.select_related("domain")
        .filter(domain__name=domain_name, local_part=local_part)
        .first()
    )


def owner_login(*, address: str, password: str, ip: str) -> Mailbox:
    """The mailbox whose owner logs in, after the throttle and the password allowed it.

    The throttle counts the address the login resolves to (any spelling of it is the same
    address). Raises OwnerLoginLocked while it must wait from this network (even for the right
    password) and OwnerLoginFailed for every other refusal, counted by the throttle.
    A hash in a legacy scheme is replaced by the default scheme on success.
    """
    identity = throttle.owner_identity(address)
    try:
        with throttle.guard(kind=LoginKind.OWNER, identity=identity, ip=ip) as attempt:
            mailbox = _find_mailbox(identity)
            stored = mailbox.password if mailbox is not None else _decoy_hash()
            verified = passwords.verify_password(password, stored)
            if mailbox is None or not verified or not may_log_in(mailbox):
                raise OwnerLoginFailed
            attempt.succeeded()
    except throttle.Throttled as exc:
        raise OwnerLoginLocked(exc.seconds) from None
    if passwords.needs_rehash(stored):
        rehash_password(mailbox=mailbox, password=password)
    return mailbox


def rehash_password(*, mailbox: Mailbox, password: str) -> bool:
    """Store `password` (just verified) in the default scheme, unless the hash changed meanwhile.

    The update is conditional on the old hash, so a password change racing with this login
    is never overwritten by the old password.
    """
    old = mailbox.password
    new = passwords.hash_password(password)
    with transaction.atomic():
        updated = Mailbox.objects.filter(pk=mailbox.pk, password=old).update(
            password=new, updated_at=timezone.now()
        )
        if updated:
            mailbox.password = new
            record(
                actor=None,
                action="rehash",
                obj=mailbox,
                domain=mailbox.domain.name,
                changes={"scheme": [passwords.scheme_of(old), passwords.scheme_of(new)]},
            )
    return bool(updated)


# --- password change ---------------------------------------------------------------------------


def owner_change_password(
    *, mailbox: Mailbox, current_password: str, new_password: str, ip: str
) -> Mailbox:
    """Check the current password and the policy, then store the new one in the default scheme.

    A wrong current password counts as a failed login (the form must not be a way around
    the login throttle); the throttle counts it after the transaction, which changes nothing.
    """
    address = mailbox.address
    try:
        with (
            throttle.guard(kind=LoginKind.OWNER, identity=address, ip=ip) as attempt,
            transaction.atomic(),
        ):
            locked = Mailbox.objects.select_for_update().select_related("domain").get(pk=mailbox.pk)
            if not passwords.verify_password(current_password, locked.password):
                raise ValidationError({"current_password": _("That is not your current password.")})
            attempt.succeeded()
            check_owner_password(new_password, address=address, policy=PasswordPolicy.load())
            if new_password == current_password:
                raise ValidationError(
                    {"new_password": _("The new password must differ from the current one.")}
                )
            locked.password = passwords.hash_password(new_password)
            locked.must_change_password = False
            locked.save(update_fields=["password", "must_change_password", "updated_at"])
            # The audit says that the password changed, never what it is.
            record(
                actor=None,
                actor_label=address,
                action="password",
                obj=locked,
                domain=locked.domain.name,
            )
    except throttle.Throttled as exc:
        raise OwnerLoginLocked(exc.seconds) from None
    return locked


# --- forwarding --------------------------------------------------------------------------------


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
    cleaned: list[str] = []
    for value in destinations:
        if not value.strip():
            continue
        try:
            address = normalize_address(value)
        except ValidationError as exc:
            raise ValidationError({"destinations": exc}) from None
        if address not in cleaned:
            cleaned.append(address)
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


def _check_room_for_an_alias(domain: Domain) -> None:
    """A new forwarding is a new alias row: it counts against the domain's max_aliases, as
    every alias does. Read from the trigger-kept usage row; the caller holds the domain lock."""
    if not domain.max_aliases:
        return
    used = DomainUsage.objects.filter(domain_id=domain.pk).values_list("aliases", flat=True)
    if (used.first() or 0) >= domain.max_aliases:
        raise ValidationError(
            {
                "destinations": ngettext(
                    "%(domain)s has reached its limit of %(n)d alias, and forwarding needs "
                    "one: ask your mail administrator.",
                    "%(domain)s has reached its limit of %(n)d aliases, and forwarding needs "
                    "one: ask your mail administrator.",
                    domain.max_aliases,
                )
                % {"domain": domain.name, "n": domain.max_aliases}
            }
        )


def _shows_no_domain(_name: str) -> bool:
    # An owner is told the addresses they typed, never how other aliases go on.
    return False


@transaction.atomic
def owner_set_forwarding(
    *, mailbox: Mailbox, destinations: Iterable[str], keep_copy: bool
) -> ForwardingState:
    """Forward the mailbox's mail to `destinations`, keeping a copy or not.

    Forwarding is the alias with the mailbox's own address (the alias decides where that
    address's mail goes; listing the address itself keeps a copy, docs/mail-stack.md), so
    Postfix sees it through the contract views as they are. No destinations: no alias, and
    the mailbox receives its mail as before.
    """
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    # Limits are read from the locked domain row (mailbox first, as mailbox_update locks).
    locked.domain = Domain.objects.select_for_update().get(pk=locked.domain_id)
    cleaned = clean_forwarding(locked, destinations)
    alias = forwarding_alias(locked, for_update=True)
    if alias is not None and not alias.active:
        raise ValidationError(
            {"destinations": _("Your mail administrator has switched off forwarding for you.")}
        )
    before = sorted(alias.destinations.values_list("address", flat=True)) if alias else []
    wanted = sorted([*cleaned, locked.address]) if cleaned and keep_copy else sorted(cleaned)
    if cleaned:
        if alias is None:
            _check_room_for_an_alias(locked.domain)
        # A destination that leads back here without the copy makes a loop that defers all
        # of the owner's mail; with the copy, Postfix stops at the owner's own address.
        check_alias_expansion(address=locked.address, destinations=wanted, may_see=_shows_no_domain)
    if not cleaned:
        if alias is not None:
            alias.delete()
    elif alias is None:
        alias = Alias.objects.create(
            domain=locked.domain, local_part=locked.local_part, description=FORWARDING_DESCRIPTION
        )
        AliasDestination.objects.bulk_create(
            AliasDestination(alias=alias, address=a) for a in wanted
        )
    else:
        alias.destinations.exclude(address__in=wanted).delete()
        AliasDestination.objects.bulk_create(
            AliasDestination(alias=alias, address=a) for a in wanted if a not in before
        )
        alias.save(update_fields=["updated_at"])
    if before != wanted:
        record(
            actor=None,
            actor_label=locked.address,
            action="forwarding",
            obj=locked,
            domain=locked.domain.name,
            changes={"destinations": [before, wanted]},
        )
    return forwarding_of(locked)


# --- admin controls ----------------------------------------------------------------------------


@transaction.atomic
def mailbox_set_owner_access(
    *,
    actor: Actor,
    mailbox: Mailbox,
    panel_login_enabled: bool | None = None,
    must_change_password: bool | None = None,
) -> Mailbox:
    """Enable or disable the owner's panel login; force a password change at the next login."""
    locked = (
        Mailbox.objects.select_for_update()
        .select_related("domain")
        .filter(domain__in=domains_visible_to(actor))
        .get(pk=mailbox.pk)
    )
    before = {
        "panel_login_enabled": locked.panel_login_enabled,
        "must_change_password": locked.must_change_password,
    }
    if panel_login_enabled is not None:
        locked.panel_login_enabled = panel_login_enabled
    if must_change_password is not None:
        locked.must_change_password = must_change_password
    changed = diff(
        before,
        {
            "panel_login_enabled": locked.panel_login_enabled,
            "must_change_password": locked.must_change_password,
        },
    )
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        record(
            actor=actor,
            action="owner_access",
            obj=locked,
            domain=locked.domain.name,
            changes=changed,
        )
    return locked


@transaction.atomic
def domain_set_owner_forwarding(
    *, actor: Actor, domain: Domain, owner_forwarding: str, max_forwards: int
) -> Domain:
    """What the domain's mailbox owners may forward (a domain admin's decision for their domains).

    Existing forwarding stays as it is: a limit applies to the next change an owner makes.
    """
    locked = domains_visible_to(actor).select_for_update().get(pk=domain.pk)
    if owner_forwarding not in OwnerForwarding.values:
        raise ValidationError({"owner_forwarding": _("Choose off, local or any.")})
    if max_forwards < 0 or max_forwards > 1000:
        raise ValidationError({"max_forwards": _("Choose a number from 0 to 1000.")})
    changed = diff(
        {"owner_forwarding": locked.owner_forwarding, "max_forwards": locked.max_forwards},
        {"owner_forwarding": owner_forwarding, "max_forwards": max_forwards},
    )
    if changed:
        locked.owner_forwarding = owner_forwarding
        locked.max_forwards = max_forwards
        locked.save(update_fields=[*changed, "updated_at"])
        record(actor=actor, action="update", obj=locked, domain=locked.name, changes=changed)
    return locked


@transaction.atomic
def password_policy_update(
    *, actor: Actor, min_length: int, forbid_address: bool, forbid_common: bool
) -> PasswordPolicy:
    require_superadmin(actor)
    if not MIN_LENGTH_FLOOR <= min_length <= 128:
        raise ValidationError(
            {"min_length": _("Choose a length from %(low)d to 128.") % {"low": MIN_LENGTH_FLOOR}}
        )
    policy = PasswordPolicy.objects.select_for_update().get_or_create(id=1)[0]
    before = {
        "min_length": policy.min_length,
        "forbid_address": policy.forbid_address,
        "forbid_common": policy.forbid_common,
    }
    after = {
        "min_length": min_length,
        "forbid_address": forbid_address,
        "forbid_common": forbid_common,
    }
    changed = diff(before, after)
    if changed:
        for field, value in after.items():
            setattr(policy, field, value)
        policy.save()
        record(actor=actor, action="update", obj=policy, domain=None, changes=changed)
    return policy
