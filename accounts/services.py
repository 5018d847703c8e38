"""Writes of admin accounts (superadmins and domain admins) and the lifting of login throttles.
Superadmins only (actor None is the operator at the shell). Every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts import throttle as login_throttle
from accounts.models import LoginThrottle
from accounts.selectors import throttles_matching
from audit.models import AuditEntry
from audit.services import diff, new_entry, record, record_changes, record_many
from domains.models import Domain
from mailadmin.access import Actor, require_superadmin
from mailadmin.names import normalize_domain
from mailadmin.passwords import generate_password


def _domains_named(names: Iterable[str]) -> list[Domain]:
    wanted = []
    for name in names:
        try:
            wanted.append(normalize_domain(name))
        except ValidationError as exc:
            raise ValidationError({"domains": exc}) from None
    found = {d.name: d for d in Domain.objects.filter(name__in=wanted)}
    missing = [name for name in wanted if name not in found]
    if missing:
        raise ValidationError(
            {"domains": _("There is no domain %(name)s.") % {"name": ", ".join(missing)}}
        )
    return [found[name] for name in dict.fromkeys(wanted)]


def _check_password(password: str, user: Any) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None


def _check_username_free(username: str) -> None:
    """One account per name in any case: `ADMIN` next to `admin` would be two admins whose
    names read the same in the audit log, and a login typed in the other case finds the other
    account. The folding is the database's lower(), the one its unique index uses."""
    folded = Lower(Value(username, output_field=CharField()))
    taken = (
        get_user_model()
        .objects.annotate(folded=Lower("username"))
        .filter(folded=folded)
        .values_list("username", flat=True)
        .first()
    )
    if taken is None:
        return
    if taken == username:
        raise ValidationError({"username": _("An account with this username already exists.")})
    raise ValidationError(
        {
            "username": _(
                "An admin named %(name)s already exists; usernames that differ only in case"
                " are one name."
            )
            % {"name": taken}
        }
    )


@transaction.atomic
def admin_create(
    *,
    actor: Actor,
    username: str,
    password: str | None = None,
    superadmin: bool = False,
    domains: Iterable[str] = (),
    password_hash: str | None = None,
    active: bool = True,
    allow_no_domains: bool = False,
    actor_label: str = "",
) -> tuple[Any, str | None]:
    """Create an admin; returns it and the generated password when neither `password` nor
    `password_hash` was given.

    For migrations: `password_hash` is stored as it is, unchecked (`make_password(None)`: nobody
    can log in until a password is set); `active=False` creates the account disabled;
    `allow_no_domains` lets a domain admin start with no domain (an account kept from a system
    whose domains were not all brought over); `actor_label` names the writer in the audit log.
    """
    require_superadmin(actor)
    if password is not None and password_hash is not None:
        raise ValueError("admin_create: give a password or a password hash, not both")
    user_model = get_user_model()
    # Normalised first (NFKC, as the login does), so that the validators judge the name that is
    # stored: "⑴x" passes them but is stored as "(1)x", which does not.
    username = user_model.normalize_username(username.strip())
    user = user_model(username=username, is_superuser=superadmin, is_staff=False, is_active=active)
    _check_username_free(username)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        if "username" in exc.message_dict:
            raise ValidationError({"username": exc.message_dict["username"]}) from None
        raise
    granted = _domains_named(domains)
    if not superadmin and not granted and not allow_no_domains:
        raise ValidationError(
            {"domains": _("A domain admin needs at least one domain (or make a superadmin).")}
        )
    generated = None
    if password_hash is not None:
        user.password = password_hash
    else:
        if password is None:
            password = generated = generate_password()
        else:
            _check_password(password, user)
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # A concurrent create of the same name, in any spelling: the folded name's unique
        # index (migration 0003) is the judge.
        _check_username_free(username)
        raise
    user.administered_domains.add(*granted)
    changes = {"superadmin": superadmin, "active": active, "domains": [d.name for d in granted]}
    record_many(
        [
            new_entry(
                actor=actor,
                action="create",
                obj=user,
                domain=None,
                changes=changes,
                actor_label=actor_label,
            ),
            *_grant_entries(actor, user, granted, actor_label),
        ]
    )
    return user, generated


def _grant_entries(
    actor: Actor, user: Any, domains: Iterable[Domain], actor_label: str
) -> list[AuditEntry]:
    return [
        new_entry(actor=actor, action="grant", obj=user, domain=d.name, actor_label=actor_label)
        for d in domains
    ]


@transaction.atomic
def admin_grant(
    *, actor: Actor, user: Any, domains: Iterable[str], actor_label: str = ""
) -> list[Domain]:
    """Let `user` administer `domains`; returns the domains newly granted. `actor_label` names
    the writer in the audit log (a migration)."""
    require_superadmin(actor)
    current = set(user.administered_domains.values_list("name", flat=True))
    new = [d for d in _domains_named(domains) if d.name not in current]
    user.administered_domains.add(*new)
    record_many(_grant_entries(actor, user, new, actor_label))
    return new


@transaction.atomic
def admin_revoke(*, actor: Actor, user: Any, domains: Iterable[str]) -> list[Domain]:
    """Take `domains` from `user`; returns the domains actually revoked."""
    require_superadmin(actor)
    current = set(user.administered_domains.values_list("name", flat=True))
    gone = [d for d in _domains_named(domains) if d.name in current]
    user.administered_domains.remove(*gone)
    for domain in gone:
        record(actor=actor, action="revoke", obj=user, domain=domain.name)
    return gone


@transaction.atomic
def admin_set_superadmin(*, actor: Actor, user: Any, superadmin: bool) -> Any:
    require_superadmin(actor)
    if actor is not None and actor.pk == user.pk and not superadmin:
        raise ValidationError(_("You cannot take away your own superadmin rights."))
    if user.is_superuser != superadmin:
        record(
            actor=actor,
            action="update",
            obj=user,
            domain=None,
            changes={"superadmin": [user.is_superuser, superadmin]},
        )
        user.is_superuser = superadmin
        user.save(update_fields=["is_superuser"])
    return user


@transaction.atomic
def admin_set_active(*, actor: Actor, user: Any, active: bool) -> Any:
    require_superadmin(actor)
    if actor is not None and actor.pk == user.pk and not active:
        raise ValidationError(_("You cannot disable your own account."))
    if user.is_active != active:
        record_changes(
            actor=actor,
            obj=user,
            domain=None,
            changes=diff({"active": user.is_active}, {"active": active}),
        )
        user.is_active = active
        user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def admin_set_roles(*, actor: Actor, user: Any, superadmin: bool, active: bool) -> Any:
    """Both flags together: either both change or neither."""
    admin_set_superadmin(actor=actor, user=user, superadmin=superadmin)
    return admin_set_active(actor=actor, user=user, active=active)


@transaction.atomic
def admin_set_password(*, actor: Actor, user: Any, password: str | None = None) -> str | None:
    """Set a new password (a superadmin for anyone, an admin for themself); returns the
    generated one when none was given."""
    if actor is not None and actor.pk != user.pk:
        require_superadmin(actor)
    generated = None
    if password is None:
        password = generated = generate_password()
    else:
        _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    record(actor=actor, action="password", obj=user, domain=None)
    return generated


@transaction.atomic
def admin_delete(*, actor: Actor, user: Any) -> None:
    require_superadmin(actor)
    if actor is not None and actor.pk == user.pk:
        raise ValidationError(_("You cannot delete your own account."))
    record(actor=actor, action="delete", obj=user, domain=None)
    user.delete()


# --- login throttles ---------------------------------------------------------------------------


def _lift(actor: Actor, rows: Iterable[LoginThrottle]) -> int:
    lifted = 0
    for row in rows:
        record(
            actor=actor,
            action="unthrottle",
            obj=row,
            domain=None,
            changes={"kind": row.kind, "identity": row.identity, "network": row.network},
        )
        lifted += LoginThrottle.objects.filter(pk=row.pk).delete()[0]
    return lifted


@transaction.atomic
def throttle_lift(*, actor: Actor, throttle: LoginThrottle) -> None:
    """Forget one counter: its pair (or identity, or network) starts again from no failures."""
    require_superadmin(actor)
    _lift(actor, [throttle])


@transaction.atomic
def throttles_lift(*, actor: Actor, identity: str = "", network: str = "", kind: str = "") -> int:
    """Forget every counter of `identity` (in any spelling the logins resolve to it) and/or of
    `network` (an address or network), in `kind` or in every key space; how many went."""
    require_superadmin(actor)
    if not identity and not network:
        raise ValidationError(_("Name an identity, a network or both."))
    if network:
        try:
            network = login_throttle.parse_network(network)
        except ValueError as exc:
            raise ValidationError({"network": str(exc)}) from None
    identities = login_throttle.identities_for(identity, kind or None) if identity else set()
    rows = throttles_matching(identities=identities, network=network, kind=kind)
    return _lift(actor, rows.select_for_update())
