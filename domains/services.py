"""Writes of domains, alias domains and server defaults; the panel's views and the management
commands call these, and the import applies their checks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import diff, record, record_changes
from domains.models import AliasDomain, AliasDomainGrant, Delivery, Domain, ServerSettings
from domains.selectors import domains_visible_to
from mailadmin.access import Actor, is_superadmin, require_superadmin
from mailadmin.ids import check_owner_id
from mailadmin.names import (
    normalize_address,
    normalize_domain,
    normalize_local_part,
    normalize_transport,
)
from mailadmin.sizes import format_size
from mailadmin.writes import not_yours, save_checked


def check_delivery(delivery: str, transport: str) -> None:
    """How a domain's mail is delivered; a relayed domain names its next hop."""
    if delivery not in Delivery.values:
        raise ValidationError({"delivery": _("Choose hosted, relay or backup.")})
    if delivery == Delivery.RELAY and not transport:
        raise ValidationError(
            {"transport": _("A relayed domain needs a next hop, e.g. smtp:[mx.example.net]:25.")}
        )


def domain_exists(name: str) -> str:
    return _("The domain %(name)s already exists.") % {"name": name}


def alias_domain_exists(name: str) -> str:
    return _("The alias domain %(name)s already exists.") % {"name": name}


def check_new_domain(name: str) -> None:
    """What the canonical `name` of a new domain may not be: an alias domain, or a name a
    superadmin allowed as one. domain_create and the import call this."""
    check_not_an_alias_domain(name)
    grant = AliasDomainGrant.objects.filter(name=name).select_related("domain").first()
    if grant is not None:
        raise ValidationError(
            {
                "name": _(
                    "%(name)s is allowed as an alias domain of %(domain)s; withdraw that first."
                )
                % {"name": name, "domain": grant.domain.name}
            }
        )


def check_not_an_alias_domain(name: str) -> None:
    if AliasDomain.objects.filter(name=name).exists():
        raise ValidationError({"name": _("%(name)s is already an alias domain.") % {"name": name}})


def check_not_a_domain(name: str) -> None:
    """An alias domain (or a grant of one) cannot have the name of a domain."""
    if Domain.objects.filter(name=name).exists():
        raise ValidationError({"name": _("%(name)s is already a domain.") % {"name": name}})


def check_alias_domain_target(*, name: str, target: str, hosted: bool) -> None:
    """The alias domain `name` points to `target`, a hosted domain other than itself."""
    if not hosted:
        raise ValidationError(
            {"target": _("Only a hosted domain can be the target of an alias domain.")}
        )
    if name == target:
        raise ValidationError({"name": _("A domain cannot be an alias of itself.")})


def check_alias_domain_allowed(*, actor: Actor, name: str, target_pk: int | None) -> None:
    """Who may add `name` as an alias domain of the domain `target_pk`: a superadmin, or an
    admin of the target when a superadmin granted that name to that domain.

    An alias domain takes the mail every user of this server sends to its name and lets the
    target's users send as anyone@name: claiming gmail.com, another tenant's subdomain or a
    domain the superadmin has yet to create would be a takeover. The answer to a name that is
    not granted is the same whether it exists anywhere or not. Every writer calls this: the
    panel, the CLI and the import.
    """
    if is_superadmin(actor):
        return
    if (
        target_pk is None
        or not AliasDomainGrant.objects.filter(name=name, domain_id=target_pk).exists()
    ):
        raise ValidationError(
            {
                "name": _(
                    "%(name)s is not an alias domain a superadmin has allowed for this "
                    "domain; ask one to allow it."
                )
                % {"name": name}
            }
        )


def check_default_quota(default: int, maximum: int) -> None:
    """A new mailbox's default quota is one the domain allows: not above its maximum."""
    if default < 0:
        raise ValidationError({"default_mailbox_quota": _("A quota cannot be negative.")})
    if default and maximum and default > maximum:
        raise ValidationError(
            {
                "default_mailbox_quota": _(
                    "The default quota (%(default)s) is above the maximum per mailbox"
                    " (%(max)s): a new mailbox could not get it."
                )
                % {"default": format_size(default), "max": format_size(maximum)}
            }
        )


@transaction.atomic
def domain_create(
    *,
    actor: Actor,
    name: str,
    description: str = "",
    delivery: str = Delivery.HOSTED,
    transport: str = "",
    max_mailboxes: int = 0,
    max_aliases: int = 0,
    max_mailbox_quota: int = 0,
    total_quota: int = 0,
    uid: int | None = None,
    gid: int | None = None,
    active: bool = True,
    relay_accept_any: bool = False,
    default_mailbox_quota: int = 0,
) -> Domain:
    """A new relay or backup-MX domain accepts only its listed recipients (domains/relay.py)
    unless `relay_accept_any`: accepting any means bouncing the unknown ones later."""
    require_superadmin(actor)
    try:
        canonical = normalize_domain(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc}) from None
    try:
        transport = normalize_transport(transport)
    except ValidationError as exc:
        raise ValidationError({"transport": exc}) from None
    check_delivery(delivery, transport)
    check_default_quota(default_mailbox_quota, max_mailbox_quota)
    check_new_domain(canonical)
    domain = Domain(
        name=canonical,
        description=description.strip(),
        delivery=delivery,
        transport=transport,
        max_mailboxes=max_mailboxes,
        max_aliases=max_aliases,
        max_mailbox_quota=max_mailbox_quota,
        total_quota=total_quota,
        uid=check_owner_id(uid, field="uid"),
        gid=check_owner_id(gid, field="gid"),
        active=active,
        relay_accept_any=relay_accept_any,
        default_mailbox_quota=default_mailbox_quota,
    )
    save_checked(domain, conflict=domain_exists(canonical))
    record(
        actor=actor,
        action="create",
        obj=domain,
        domain=domain.name,
        changes={field: getattr(domain, field) for field in AUDITED_FIELDS},
    )
    return domain


_SUPERADMIN_ONLY = {
    "delivery",
    "transport",
    "uid",
    "gid",
    "max_mailboxes",
    "max_aliases",
    "max_mailbox_quota",
    "total_quota",
    "active",
    # Accepting every recipient of a relay domain makes this server bounce mail for unknown
    # addresses to forged senders (backscatter): a superadmin's choice, like the delivery.
    "relay_accept_any",
}
_UPDATABLE = {
    "description",
    "default_mailbox_quota",
    "delivery",
    "transport",
    "max_mailboxes",
    "max_aliases",
    "max_mailbox_quota",
    "total_quota",
    "uid",
    "gid",
    "active",
    "relay_accept_any",
}
# What a domain's "create" audit entry records, whoever creates it (the import too).
AUDITED_FIELDS = tuple(sorted(_UPDATABLE))


@transaction.atomic
def domain_update(*, actor: Actor, domain: Domain, **changes: object) -> Domain:
    """Change the given fields; a domain's name never changes (its mail paths depend on it)."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %s") % ", ".join(sorted(unknown)))
    if set(changes) & _SUPERADMIN_ONLY:
        # Delivery and ownership decide where mail goes, and a domain admin must not lift
        # their own limits or re-enable a domain a superadmin switched off: superadmin only.
        require_superadmin(actor)
    domain = domains_visible_to(actor).select_for_update().get(pk=domain.pk)
    before = {field: getattr(domain, field) for field in changes}
    for field, value in changes.items():
        setattr(domain, field, value)
    try:
        domain.transport = normalize_transport(domain.transport)
    except ValidationError as exc:
        raise ValidationError({"transport": exc}) from None
    check_delivery(domain.delivery, domain.transport)
    check_default_quota(domain.default_mailbox_quota, domain.max_mailbox_quota)
    check_owner_id(domain.uid, field="uid")
    check_owner_id(domain.gid, field="gid")
    save_checked(domain, conflict=_("The domain could not be saved."))
    changed = diff(before, {field: getattr(domain, field) for field in changes})
    record_changes(actor=actor, obj=domain, domain=domain.name, changes=changed)
    return domain


def domain_set_active(*, actor: Actor, domain: Domain, active: bool) -> Domain:
    return domain_update(actor=actor, domain=domain, active=active)


@transaction.atomic
def domain_delete(*, actor: Actor, domain: Domain) -> dict[str, int]:
    """Delete the domain with its mailboxes, aliases and alias domains; returns what went."""
    require_superadmin(actor)
    name = domain.name
    record(actor=actor, action="delete", obj=domain, domain=name)
    _count, per_model = domain.delete()
    return per_model


@transaction.atomic
def alias_domain_create(
    *, actor: Actor, name: str, target: str, active: bool = True
) -> AliasDomain:
    """`name` becomes an alias of the hosted domain `target`; both must be the actor's."""
    try:
        canonical = normalize_domain(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc}) from None
    try:
        target_name = normalize_domain(target)
    except ValidationError as exc:
        raise ValidationError({"target": exc}) from None
    visible = domains_visible_to(actor)
    target_domain = visible.filter(name=target_name).first()
    if target_domain is None:
        raise ValidationError({"target": not_yours(actor, target_name)})
    check_alias_domain_target(name=canonical, target=target_name, hosted=target_domain.is_hosted)
    check_alias_domain_allowed(actor=actor, name=canonical, target_pk=target_domain.pk)
    check_not_a_domain(canonical)
    alias_domain = AliasDomain(name=canonical, target=target_domain, active=active)
    save_checked(alias_domain, conflict=alias_domain_exists(canonical))
    record(
        actor=actor,
        action="create",
        obj=alias_domain,
        domain=target_domain.name,
        changes={"name": canonical, "target": target_domain.name, "active": active},
    )
    return alias_domain


@transaction.atomic
def alias_domain_set_active(
    *, actor: Actor, alias_domain: AliasDomain, active: bool
) -> AliasDomain:
    alias_domain = _alias_domain_for_update(actor, alias_domain)
    changed = diff({"active": alias_domain.active}, {"active": active})
    record_changes(actor=actor, obj=alias_domain, domain=alias_domain.target.name, changes=changed)
    alias_domain.active = active
    alias_domain.save(update_fields=["active", "updated_at"])
    return alias_domain


@transaction.atomic
def alias_domain_delete(*, actor: Actor, alias_domain: AliasDomain) -> None:
    locked = _alias_domain_for_update(actor, alias_domain)
    record(actor=actor, action="delete", obj=locked, domain=locked.target.name)
    locked.delete()


def _alias_domain_for_update(actor: Actor, alias_domain: AliasDomain) -> AliasDomain:
    return (
        AliasDomain.objects.select_for_update()
        .filter(target__in=domains_visible_to(actor))
        .get(pk=alias_domain.pk)
    )


@transaction.atomic
def alias_domain_grant_create(*, actor: Actor, name: str, domain: Domain) -> AliasDomainGrant:
    """Let the admins of `domain` add `name` as its alias domain (superadmins only)."""
    require_superadmin(actor)
    try:
        canonical = normalize_domain(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc}) from None
    if canonical == domain.name:
        raise ValidationError({"name": _("A domain cannot be an alias of itself.")})
    check_not_a_domain(canonical)
    check_not_an_alias_domain(canonical)
    if not domain.is_hosted:
        raise ValidationError(
            {"name": _("Only a hosted domain can be the target of an alias domain.")}
        )
    grant = AliasDomainGrant(name=canonical, domain=domain)
    save_checked(
        grant,
        conflict=_("%(name)s is already allowed for a domain.") % {"name": canonical},
    )
    record(
        actor=actor,
        action="grant",
        obj=grant,
        domain=domain.name,
        changes={"alias_domain": canonical},
    )
    return grant


@transaction.atomic
def alias_domain_grant_delete(*, actor: Actor, grant: AliasDomainGrant) -> None:
    """Withdraw a grant; an alias domain already added under it stays."""
    require_superadmin(actor)
    record(
        actor=actor,
        action="revoke",
        obj=grant,
        domain=grant.domain.name,
        changes={"alias_domain": grant.name},
    )
    grant.delete()


def _check_postmaster_address(value: str) -> str:
    """Where unset postmaster@/abuse@ go: an address of a fully qualified domain, or of
    localhost (local(8) and /etc/aliases on the mail host); empty switches the fallback off."""
    text = value.strip()
    if not text:
        return ""
    local, _at, domain = text.rpartition("@")
    try:
        if domain.lower() == "localhost":
            return f"{normalize_local_part(local)}@localhost"
        return normalize_address(text)
    except ValidationError as exc:
        raise ValidationError({"postmaster_address": exc}) from None


_SERVER_FIELDS = ("default_uid", "default_gid", "postmaster_address")


@transaction.atomic
def server_settings_update(
    *,
    actor: Actor,
    default_uid: int | None = None,
    default_gid: int | None = None,
    postmaster_address: str | None = None,
) -> ServerSettings:
    """The server-wide defaults the contract views read; superadmins and the operator's CLI."""
    require_superadmin(actor)
    row = ServerSettings.objects.select_for_update().get_or_create(id=1)[0]
    before = {field: getattr(row, field) for field in _SERVER_FIELDS}
    if default_uid is not None:
        row.default_uid = check_owner_id(default_uid, field="default_uid") or row.default_uid
    if default_gid is not None:
        row.default_gid = check_owner_id(default_gid, field="default_gid") or row.default_gid
    if postmaster_address is not None:
        row.postmaster_address = _check_postmaster_address(postmaster_address)
    row.full_clean()
    row.save()
    changed = diff(before, {field: getattr(row, field) for field in _SERVER_FIELDS})
    if changed:
        record(actor=actor, action="update", obj=row, domain=None, changes=changed)
    return row
