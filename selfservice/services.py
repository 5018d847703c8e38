"""Writes of the owners' self-service, and the admin controls over it.

Mailbox owners are not Django users: their actor is None (the services trust the mailbox the
owner's session names, see selfservice.session) and the audit names them by address. Their
login and password change live in selfservice/login.py, their forwarding in
selfservice/forwarding.py; both write through the mailbox services and are offered here too.
Admin controls take `actor=` and are scoped through domains.selectors like every other write.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import diff, record
from domains.models import Domain, OwnerForwarding
from domains.selectors import domains_visible_to
from mailadmin.access import Actor, require_superadmin
from mailboxes.alias_services import FORWARDING_DESCRIPTION
from mailboxes.locks import mailbox_for_update
from mailboxes.models import Mailbox
from selfservice.forwarding import clean_forwarding, owner_set_forwarding
from selfservice.login import (
    OwnerLoginFailed,
    OwnerLoginLocked,
    may_log_in,
    owner_change_password,
    owner_login,
    rehash_password,
)
from selfservice.models import MIN_LENGTH_FLOOR, PasswordPolicy

__all__ = [
    "FORWARDING_DESCRIPTION",
    "OwnerLoginFailed",
    "OwnerLoginLocked",
    "clean_forwarding",
    "domain_set_owner_forwarding",
    "mailbox_set_owner_access",
    "may_log_in",
    "owner_change_password",
    "owner_login",
    "owner_set_forwarding",
    "password_policy_update",
    "rehash_password",
]


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
    locked = mailbox_for_update(actor, mailbox)
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
