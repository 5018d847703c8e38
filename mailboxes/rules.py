"""The rules of a mailbox or alias write as checks of values: the one home of each message.

Every writer calls these: the services (mailboxes/services.py, mailboxes/alias_services.py)
with the domain row and its DomainUsage counters read under the domain's lock, the bulk import
(transfer/checking.py) with its DomainState (loaded from the same counters) plus what the file
added so far, and the owners' self-service through the services. Nothing here reads the
database, so the import can apply the rules to 100,000 rows from memory.

Errors are keyed by the services' field names ("address", "password", "quota", "format",
"destinations"); the import reports the CSV column instead (transfer/report.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mailadmin import passwords
from mailadmin.names import normalize_address
from mailadmin.names import split_address as split_normalized
from mailadmin.sizes import format_size
from mailboxes.models import StorageFormat

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
_FORMATS = frozenset(StorageFormat.values)


class Limits(Protocol):
    """What the rules read of a domain: a Domain row, or the import's DomainState."""

    @property
    def name(self) -> str: ...
    @property
    def max_mailboxes(self) -> int: ...
    @property
    def max_aliases(self) -> int: ...
    @property
    def max_mailbox_quota(self) -> int: ...
    @property
    def total_quota(self) -> int: ...
    @property
    def default_mailbox_quota(self) -> int: ...


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


# --- the address --------------------------------------------------------------------------------


def split_address(value: str, *, allow_catchall: bool = False) -> tuple[str, str]:
    """(local part, domain) of the address a mailbox or alias is created with."""
    try:
        return split_normalized(value, allow_catchall=allow_catchall)
    except ValidationError as exc:
        raise ValidationError({"address": exc}) from None


def check_hosted(name: str, *, hosted: bool) -> None:
    """Mailboxes and aliases live in hosted domains only."""
    if not hosted:
        raise _error(
            "address",
            _("%(name)s is not hosted here (it is relayed or backed up).") % {"name": name},
            "not_hosted",
        )


def mailbox_exists(address: str) -> str:
    return _("The mailbox %(address)s already exists.") % {"address": address}


def alias_exists(address: str) -> str:
    return _("The alias %(address)s already exists.") % {"address": address}


def path_taken(path: str, holder: str) -> str:
    """A mailbox's path shares a directory with the mailbox `holder` (mailboxes/storage.py)."""
    return _("The mail directory %(path)s shares a directory with the mailbox %(other)s.") % {
        "path": path,
        "other": holder,
    }


# --- the mailbox --------------------------------------------------------------------------------


def check_password(password: str) -> None:
    """A password mailadmin hashes: long enough, and nothing Dovecot's clients cut it at."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise _error(
            "password",
            _("A password needs at least %(n)d characters.") % {"n": MIN_PASSWORD_LENGTH},
            "too_short",
        )
    for message, code in unstorable_password(password):
        raise _error("password", message, code)


def unstorable_password(password: str) -> list[tuple[str, str]]:
    """What no password policy may let through, as (message, code): a password too long to
    store, or one with a line break or NUL, where Dovecot's clients and doveadm cut it."""
    problems = []
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append((_("That password is too long."), "too_long"))
    if any(ch in password for ch in "\x00\r\n"):
        problems.append((_("A password cannot contain line breaks or NUL."), "invalid"))
    return problems


def check_password_hash(value: str) -> None:
    """A `{SCHEME}hash` stored as given: only in a scheme mailadmin (and Dovecot) verifies."""
    if not passwords.is_known_hash(value):
        raise _error(
            "password", _("That is not a {SCHEME}hash mailadmin can verify."), "unknown_scheme"
        )


def check_storage_format(value: str) -> None:
    if value not in _FORMATS:
        raise _error("format", _("Choose maildir or mbox."), "invalid")


def check_room_for_mailbox(domain: Limits, *, mailboxes: int) -> None:
    """`mailboxes`: how many the domain has before this one."""
    if domain.max_mailboxes and mailboxes >= domain.max_mailboxes:
        raise _error(
            "address",
            _("%(domain)s already has its maximum of %(n)d mailboxes.")
            % {"domain": domain.name, "n": domain.max_mailboxes},
            "mailbox_limit",
        )


def quota_or_default(domain: Limits, quota: int | None) -> int:
    """No quota given: the domain's default quota, else its per-mailbox maximum (0, no limit,
    when it has neither)."""
    if quota is not None:
        return quota
    return domain.default_mailbox_quota or domain.max_mailbox_quota


def check_quota(domain: Limits, quota: int, *, allocated: int) -> None:
    """`quota` for one mailbox of `domain`, whose other mailboxes hold `allocated` bytes."""
    if quota < 0:
        raise _error("quota", _("A quota cannot be negative."), "invalid")
    if domain.max_mailbox_quota and (quota == 0 or quota > domain.max_mailbox_quota):
        raise _error(
            "quota",
            _("%(domain)s allows at most %(max)s per mailbox.")
            % {"domain": domain.name, "max": format_size(domain.max_mailbox_quota)},
            "mailbox_quota",
        )
    if not domain.total_quota:
        return
    if quota == 0:
        raise _error(
            "quota",
            _("%(domain)s has a total quota: each mailbox needs a quota.")
            % {"domain": domain.name},
            "quota_required",
        )
    if allocated + quota > domain.total_quota:
        raise _error(
            "quota",
            _("%(domain)s has %(free)s of its total quota left.")
            % {
                "domain": domain.name,
                "free": format_size(max(domain.total_quota - allocated, 0)),
            },
            "total_quota",
        )


# --- the alias ----------------------------------------------------------------------------------


def check_room_for_alias(domain: Limits, *, aliases: int, for_owner: bool = False) -> None:
    """`aliases`: how many the domain has before this one. A mailbox's forwarding is an alias
    too (mailboxes/alias_services.py); `for_owner` words the refusal for its owner."""
    if not domain.max_aliases or aliases < domain.max_aliases:
        return
    if for_owner:
        message = ngettext(
            "%(domain)s has reached its limit of %(n)d alias, and forwarding needs "
            "one: ask your mail administrator.",
            "%(domain)s has reached its limit of %(n)d aliases, and forwarding needs "
            "one: ask your mail administrator.",
            domain.max_aliases,
        )
        raise _error(
            "destinations",
            message % {"domain": domain.name, "n": domain.max_aliases},
            "alias_limit",
        )
    raise _error(
        "address",
        _("%(domain)s already has its maximum of %(n)d aliases.")
        % {"domain": domain.name, "n": domain.max_aliases},
        "alias_limit",
    )


def normalize_destinations(
    values: Iterable[str], *, normalize: Callable[[str], str] = normalize_address
) -> list[str]:
    """Each destination in canonical form, once, in the order given. `normalize` is
    mailadmin.names.normalize_address or a cached equivalent (the import's)."""
    cleaned: list[str] = []
    for value in values:
        try:
            address = normalize(value)
        except ValidationError as exc:
            raise ValidationError({"destinations": exc}) from None
        if address not in cleaned:
            cleaned.append(address)
    return cleaned


def clean_destinations(
    values: Iterable[str], *, normalize: Callable[[str], str] = normalize_address
) -> list[str]:
    """normalize_destinations, and an alias has at least one."""
    cleaned = normalize_destinations(values, normalize=normalize)
    if not cleaned:
        raise _error("destinations", _("An alias needs at least one destination."), "required")
    return cleaned


def alias_at_mailbox(address: str) -> ValidationError:
    return ValidationError(
        _(
            "%(address)s is a mailbox: an alias at its address takes all of its mail. Say"
            " whether the mailbox keeps a copy or gets nothing (in the CLI: --keep-copy or"
            " --forward-only)."
        )
        % {"address": address},
        code="mailbox_address",
    )


def mailbox_at_alias(address: str) -> ValidationError:
    return ValidationError(
        _(
            "%(address)s is an alias: a mailbox at its address receives none of its mail while"
            " the alias does not list it. Say whether the alias delivers a copy to the new"
            " mailbox or goes on taking all of the mail (in the CLI: --alias-copy or"
            " --no-alias-copy)."
        )
        % {"address": address},
        code="alias_address",
    )


def check_self_destination(
    address: str, destinations: Collection[str], *, is_mailbox: bool
) -> None:
    """Delivering to itself only means "keep a copy" when a mailbox has this address."""
    if address in destinations and not is_mailbox:
        raise _error(
            "destinations",
            _("%(address)s cannot point to itself unless it is a mailbox.") % {"address": address},
            "self",
        )


def owner_languages() -> tuple[str, ...]:
    """The languages an owner's login may keep for what Dovecot writes to them (quota
    warnings): "" is English, the default; the others are the panel's languages."""
    from django.conf import settings

    return ("", *(code for code, _name in settings.LANGUAGES if code != "en"))


def check_owner_language(language: str) -> str:
    """The stored form of a language code ("en" and "" are both English), or an error."""
    code = "" if language in ("", "en") else language
    if code not in owner_languages():
        raise ValidationError(
            _("%(language)s is not one of the panel's languages."),
            code="unknown_language",
            params={"language": language},
        )
    return code
