"""Writes of mailboxes and aliases. Views, CLI and API all call these.

Every write that checks a domain limit first locks the domain row, so two concurrent creates
cannot both slip under a limit; the unique constraints settle races on the same address.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from audit.services import diff, record
from domains.models import Domain
from domains.selectors import domains_visible_to
from mailadmin import passwords
from mailadmin.access import Actor
from mailadmin.ids import check_owner_id
from mailadmin.names import normalize_address, split_address
from mailadmin.sizes import format_size
from mailadmin.writes import not_yours, save_checked
from mailboxes.loops import (
    alias_expansion_problems,
    aliases_pointing_at,
    check_alias_expansion,
    describe,
    visible_to,
)
from mailboxes.maildirs import awaiting_archive_error, homes_awaiting_archive
from mailboxes.models import Alias, AliasDestination, Mailbox, StorageFormat
from mailboxes.paths import canonical_path
from mailboxes.storage import check_owner_ids, path_conflict

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


def _hosted_domain_for_update(actor: Actor, domain_name: str, field: str) -> Domain:
    domain = domains_visible_to(actor).select_for_update().filter(name=domain_name).first()
    if domain is None:
        raise ValidationError({field: not_yours(actor, domain_name)})
    if not domain.is_hosted:
        raise ValidationError(
            {
                field: _("%(name)s is not hosted here (it is relayed or backed up).")
                % {"name": domain_name}
            }
        )
    return domain


def _address_or_error(value: str, field: str, *, allow_catchall: bool = False) -> tuple[str, str]:
    try:
        return split_address(value, allow_catchall=allow_catchall)
    except ValidationError as exc:
        raise ValidationError({field: exc}) from None


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            {
                "password": _("A password needs at least %(n)d characters.")
                % {"n": MIN_PASSWORD_LENGTH}
            }
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError({"password": _("That password is too long.")})
    if any(ch in password for ch in "\x00\r\n"):
        raise ValidationError({"password": _("A password cannot contain line breaks or NUL.")})


def _check_quota(domain: Domain, quota: int, *, replacing: Mailbox | None = None) -> None:
    if quota < 0:
        raise ValidationError({"quota": _("A quota cannot be negative.")})
    if domain.max_mailbox_quota and (quota == 0 or quota > domain.max_mailbox_quota):
        raise ValidationError(
            {
                "quota": _("%(domain)s allows at most %(max)s per mailbox.")
                % {"domain": domain.name, "max": format_size(domain.max_mailbox_quota)}
            }
        )
    if domain.total_quota:
        if quota == 0:
            raise ValidationError(
                {
                    "quota": _("%(domain)s has a total quota: each mailbox needs a quota.")
                    % {"domain": domain.name}
                }
            )
        others = Mailbox.objects.filter(domain=domain)
        if replacing is not None:
            others = others.exclude(pk=replacing.pk)
        used = others.aggregate(total=Sum("quota"))["total"] or 0
        if used + quota > domain.total_quota:
            raise ValidationError(
                {
                    "quota": _("%(domain)s has %(free)s of its total quota left.")
                    % {
                        "domain": domain.name,
                        "free": format_size(max(domain.total_quota - used, 0)),
                    }
                }
            )


@transaction.atomic
def mailbox_create(
    *,
    actor: Actor,
    address: str,
    password: str | None = None,
    password_hash: str | None = None,
    name: str = "",
    quota: int | None = None,
    storage_format: str = StorageFormat.MAILDIR,
    uid: int | None = None,
    gid: int | None = None,
    active: bool = True,
) -> tuple[Mailbox, str | None]:
    """Create a mailbox; returns it and the generated password when none was given."""
    local_part, domain_name = _address_or_error(address, "address")
    domain = _hosted_domain_for_update(actor, domain_name, "address")
    check_owner_ids(actor, uid, gid)
    if storage_format not in StorageFormat.values:
        raise ValidationError({"format": _("Choose maildir or mbox.")})
    if domain.mailboxes.filter(local_part=local_part).exists():
        raise ValidationError(
            {
                "address": _("The mailbox %(address)s already exists.")
                % {"address": f"{local_part}@{domain.name}"}
            }
        )
    if homes_awaiting_archive(domain.name, {local_part}):
        # The old directory would be handed to the new mailbox (mailboxes/maildirs.py).
        raise ValidationError({"address": awaiting_archive_error(f"{local_part}@{domain.name}")})
    if domain.max_mailboxes and domain.mailboxes.count() >= domain.max_mailboxes:
        raise ValidationError(
            {
                "address": _("%(domain)s already has its maximum of %(n)d mailboxes.")
                % {"domain": domain.name, "n": domain.max_mailboxes}
            }
        )
    if quota is None:
        quota = domain.max_mailbox_quota
    _check_quota(domain, quota)
    generated = None
    if password_hash is not None:
        if not passwords.is_known_hash(password_hash):
            raise ValidationError(
                {"password": _("That is not a {SCHEME}hash mailadmin can verify.")}
            )
        stored = password_hash
    else:
        if password is None:
            password = generated = passwords.generate_password()
        check_password(password)
        stored = passwords.hash_password(password)
    path = canonical_path(domain.name, local_part, storage_format)
    holder = path_conflict(domain=domain.name, local_part=local_part, path=path)
    if holder is not None:
        # A mailbox imported with a path of its own sits where this one's mail would go.
        raise ValidationError(
            {
                "address": _("The mail directory %(path)s belongs to the mailbox %(other)s.")
                % {"path": path, "other": holder.address}
            }
        )
    mailbox = Mailbox(
        domain=domain,
        local_part=local_part,
        name=name.strip(),
        password=stored,
        quota=quota,
        format=storage_format,
        path=path,
        uid=check_owner_id(uid, field="uid"),
        gid=check_owner_id(gid, field="gid"),
        active=active,
    )
    save_checked(
        mailbox,
        conflict=_("The mailbox %(address)s already exists.")
        % {"address": f"{local_part}@{domain.name}"},
    )
    record(
        actor=actor,
        action="create",
        obj=mailbox,
        domain=domain.name,
        changes={
            "name": mailbox.name,
            "quota": mailbox.quota,
            "format": mailbox.format,
            "uid": mailbox.uid,
            "gid": mailbox.gid,
            "active": mailbox.active,
        },
    )
    return mailbox, generated


def _mailbox_for_update(actor: Actor, mailbox: Mailbox) -> Mailbox:
    return (
        Mailbox.objects.select_for_update()
        .select_related("domain")
        .filter(domain__in=domains_visible_to(actor))
        .get(pk=mailbox.pk)
    )


@transaction.atomic
def mailbox_set_password(*, actor: Actor, mailbox: Mailbox, password: str) -> Mailbox:
    check_password(password)
    mailbox = _mailbox_for_update(actor, mailbox)
    mailbox.password = passwords.hash_password(password)
    mailbox.save(update_fields=["password", "updated_at"])
    # The audit says that the password changed, never what it is.
    record(actor=actor, action="password", obj=mailbox, domain=mailbox.domain.name)
    return mailbox


@transaction.atomic
def mailbox_update(
    *,
    actor: Actor,
    mailbox: Mailbox,
    name: str | None = None,
    quota: int | None = None,
    uid: int | None = None,
    gid: int | None = None,
    clear_uid: bool = False,
    clear_gid: bool = False,
    active: bool | None = None,
) -> Mailbox:
    mailbox = _mailbox_for_update(actor, mailbox)
    check_owner_ids(actor, uid, gid, clear_uid, clear_gid)
    watched = ("name", "quota", "uid", "gid", "active")
    before = {field: getattr(mailbox, field) for field in watched}
    if name is not None:
        mailbox.name = name.strip()
    if quota is not None:
        # Limits are read from the locked row, not from what was loaded before the lock.
        mailbox.domain = Domain.objects.select_for_update().get(pk=mailbox.domain_id)
        _check_quota(mailbox.domain, quota, replacing=mailbox)
        mailbox.quota = quota
    if uid is not None or clear_uid:
        mailbox.uid = None if clear_uid else check_owner_id(uid, field="uid")
    if gid is not None or clear_gid:
        mailbox.gid = None if clear_gid else check_owner_id(gid, field="gid")
    if active is not None:
        mailbox.active = active
    save_checked(mailbox, conflict=_("The mailbox could not be saved."))
    changed = diff(before, {field: getattr(mailbox, field) for field in watched})
    if changed:
        action = "update"
        if set(changed) == {"active"}:
            action = "enable" if mailbox.active else "disable"
        record(actor=actor, action=action, obj=mailbox, domain=mailbox.domain.name, changes=changed)
    return mailbox


def mailbox_set_active(*, actor: Actor, mailbox: Mailbox, active: bool) -> Mailbox:
    return mailbox_update(actor=actor, mailbox=mailbox, active=active)


@transaction.atomic
def mailbox_delete(*, actor: Actor, mailbox: Mailbox) -> None:
    """Delete the mailbox row; its mail on disk stays for the operator to archive
    (`prepare_maildirs --archive-orphans`); until then the address cannot be created again
    (mailbox_create), so that no new owner gets the old mail."""
    locked = _mailbox_for_update(actor, mailbox)
    address = locked.address
    record(actor=actor, action="delete", obj=locked, domain=locked.domain.name)
    locked.delete()
    # A mailbox answers for itself; once it is gone its address may be taken by the catch-all,
    # which can close a loop through the aliases that list it (mailboxes/loops.py).
    problems = alias_expansion_problems(aliases_pointing_at([address]))
    if problems:
        may_see = visible_to(actor)
        raise ValidationError(
            {
                "__all__": [
                    _("%(address)s cannot be deleted: ") % {"address": address}
                    + describe(problem, may_see=may_see)
                    for problem in problems.values()
                ]
            }
        )


def _clean_destinations(
    alias_address: str,
    destinations: Iterable[str],
    domain: Domain,
    local_part: str,
    *,
    actor: Actor,
) -> list[str]:
    cleaned: list[str] = []
    for value in destinations:
        try:
            address = normalize_address(value)
        except ValidationError as exc:
            raise ValidationError({"destinations": exc}) from None
        if address not in cleaned:
            cleaned.append(address)
    if not cleaned:
        raise ValidationError({"destinations": _("An alias needs at least one destination.")})
    if alias_address in cleaned and not (
        local_part and Mailbox.objects.filter(domain=domain, local_part=local_part).exists()
    ):
        # Delivering to itself only means "keep a copy" when a mailbox has this address.
        raise ValidationError(
            {
                "destinations": _("%(address)s cannot point to itself unless it is a mailbox.")
                % {"address": alias_address}
            }
        )
    # A loop through other aliases (or too big an expansion) makes Postfix defer the mail.
    check_alias_expansion(address=alias_address, destinations=cleaned, actor=actor)
    return cleaned


@transaction.atomic
def alias_create(
    *,
    actor: Actor,
    address: str,
    destinations: Iterable[str],
    description: str = "",
    active: bool = True,
) -> Alias:
    """Create an alias; `@domain` is the domain's catch-all."""
    local_part, domain_name = _address_or_error(address, "address", allow_catchall=True)
    domain = _hosted_domain_for_update(actor, domain_name, "address")
    if domain.aliases.filter(local_part=local_part).exists():
        raise ValidationError(
            {
                "address": _("The alias %(address)s already exists.")
                % {"address": f"{local_part}@{domain.name}"}
            }
        )
    if domain.max_aliases and domain.aliases.count() >= domain.max_aliases:
        raise ValidationError(
            {
                "address": _("%(domain)s already has its maximum of %(n)d aliases.")
                % {"domain": domain.name, "n": domain.max_aliases}
            }
        )
    alias_address = f"{local_part}@{domain.name}"
    cleaned = _clean_destinations(alias_address, destinations, domain, local_part, actor=actor)
    alias = Alias(
        domain=domain, local_part=local_part, description=description.strip(), active=active
    )
    save_checked(
        alias, conflict=_("The alias %(address)s already exists.") % {"address": alias_address}
    )
    AliasDestination.objects.bulk_create(AliasDestination(alias=alias, address=a) for a in cleaned)
    record(
        actor=actor,
        action="create",
        obj=alias,
        domain=domain.name,
        changes={"destinations": cleaned, "description": alias.description, "active": active},
    )
    return alias


def _alias_for_update(actor: Actor, alias: Alias) -> Alias:
    return (
        Alias.objects.select_for_update()
        .select_related("domain")
        .filter(domain__in=domains_visible_to(actor))
        .get(pk=alias.pk)
    )


@transaction.atomic
def alias_set_destinations(*, actor: Actor, alias: Alias, destinations: Iterable[str]) -> Alias:
    alias = _alias_for_update(actor, alias)
    cleaned = _clean_destinations(
        alias.address, destinations, alias.domain, alias.local_part, actor=actor
    )
    before = sorted(alias.destinations.values_list("address", flat=True))
    alias.destinations.exclude(address__in=cleaned).delete()
    existing = set(before) & set(cleaned)
    AliasDestination.objects.bulk_create(
        AliasDestination(alias=alias, address=a) for a in cleaned if a not in existing
    )
    alias.save(update_fields=["updated_at"])
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
    alias = _alias_for_update(actor, alias)
    if active and not alias.active:
        # Switching an alias on adds its destinations to what Postfix expands: the same
        # loop rule as writing them.
        destinations = list(alias.destinations.values_list("address", flat=True))
        check_alias_expansion(address=alias.address, destinations=destinations, actor=actor)
    if alias.active != active:
        record(
            actor=actor,
            action="enable" if active else "disable",
            obj=alias,
            domain=alias.domain.name,
            changes={"active": [alias.active, active]},
        )
    alias.active = active
    alias.save(update_fields=["active", "updated_at"])
    return alias


@transaction.atomic
def alias_delete(*, actor: Actor, alias: Alias) -> None:
    locked = _alias_for_update(actor, alias)
    record(actor=actor, action="delete", obj=locked, domain=locked.domain.name)
    locked.delete()
