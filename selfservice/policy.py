"""Checks a new owner password against the PasswordPolicy row."""

from __future__ import annotations

from functools import cache

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mailboxes.rules import unstorable_password
from selfservice.models import PasswordPolicy

# A local part this short inside a password is chance, not a weakness ("al" in "totally").
_CONTAINED_LOCAL_PART_MIN = 4


@cache
def _common_passwords() -> frozenset[str]:
    # Django's list of 20,000 common passwords (lowercase), read once per process.
    return frozenset(CommonPasswordValidator().passwords)


def password_problems(password: str, *, address: str, policy: PasswordPolicy) -> list[str]:
    """What is wrong with `password` as the new password of `address` (empty: nothing)."""
    problems: list[str] = []
    if len(password) < policy.min_length:
        problems.append(
            ngettext(
                "A password needs at least %(n)d character.",
                "A password needs at least %(n)d characters.",
                policy.min_length,
            )
            % {"n": policy.min_length}
        )
    problems.extend(message for message, _code in unstorable_password(password))
    folded = password.strip().casefold()
    local_part, _at, domain = address.casefold().partition("@")
    if policy.forbid_address and (
        folded in {address.casefold(), local_part, domain}
        or (len(local_part) >= _CONTAINED_LOCAL_PART_MIN and local_part in folded)
    ):
        problems.append(_("A password cannot be or contain your address."))
    if policy.forbid_common and folded in _common_passwords():
        problems.append(_("That password is too common."))
    return problems


def check_owner_password(password: str, *, address: str, policy: PasswordPolicy) -> None:
    problems = password_problems(password, address=address, policy=policy)
    if problems:
        raise ValidationError({"new_password": problems})
