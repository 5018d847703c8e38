"""The owner's login and password change (selfservice.services offers these too).

Mailbox owners are not Django users: their actor is None (the services trust the mailbox the
owner's session names, see selfservice.session) and the audit names them by address. The
password itself is written by the mailbox services (mailboxes/services.py), as an admin's is.
"""

from __future__ import annotations

from functools import cache

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import throttle
from accounts.models import LoginKind
from mailadmin import passwords
from mailadmin.names import split_address
from mailboxes.locks import mailbox_for_update
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_rehash_password, mailbox_set_password
from selfservice.models import PasswordPolicy
from selfservice.policy import check_owner_password


class OwnerLoginFailed(Exception):
    """Wrong address or password, or a mailbox that may not log in: deliberately one case."""


class OwnerLoginLocked(Exception):
    """The throttle makes this address wait `seconds` from this network."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


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
    """Store `password` (just verified) in the default scheme, unless the hash changed meanwhile
    (mailboxes.services.mailbox_rehash_password); audited under the owner's address."""
    return mailbox_rehash_password(mailbox=mailbox, password=password)


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
            locked = mailbox_for_update(None, mailbox)
            if not passwords.verify_password(current_password, locked.password):
                raise ValidationError({"current_password": _("That is not your current password.")})
            attempt.succeeded()
            check_owner_password(new_password, address=address, policy=PasswordPolicy.load())
            if new_password == current_password:
                raise ValidationError(
                    {"new_password": _("The new password must differ from the current one.")}
                )
            # The policy is stricter than the rule of every mailbox password, which
            # mailbox_set_password applies too.
            changed = mailbox_set_password(
                actor=None, mailbox=locked, password=new_password, by_owner=True
            )
    except throttle.Throttled as exc:
        raise OwnerLoginLocked(exc.seconds) from None
    return changed
