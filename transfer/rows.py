"""One import row, read and normalised: the same rules as the services, cell by cell.

Each `parse_*` takes the cells of a row and returns a typed row or raises ValidationError with
a message for the admin: the services' own checks (mailboxes/rules.py, domains/services.py,
mailadmin/names.py) wherever a cell is what a service takes. Checks that need the database or
other rows (scope, duplicates, limits) live in transfer/checking.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from domains.models import Delivery
from domains.services import check_default_quota, check_delivery
from mailadmin.ids import check_owner_id
from mailadmin.names import normalize_domain, normalize_transport, split_address
from mailadmin.sizes import parse_size
from mailadmin.text import validate_plain_text
from mailboxes import rules
from mailboxes.models import StorageFormat
from mailboxes.paths import canonical_path, check_path

_TRUE = {"", "1", "yes", "y", "true", "t", "on", "active"}
_FALSE = {"0", "no", "n", "false", "f", "off", "inactive"}
_SEPARATORS = str.maketrans({",": " ", ";": " "})


@dataclass(slots=True)
class DomainRow:
    line: int
    name: str
    description: str
    delivery: str
    transport: str
    max_mailboxes: int
    max_aliases: int
    max_mailbox_quota: int
    total_quota: int
    uid: int | None
    gid: int | None
    active: bool
    relay_accept_any: bool = False
    default_mailbox_quota: int = 0

    @property
    def is_hosted(self) -> bool:
        return self.delivery == Delivery.HOSTED


@dataclass(slots=True)
class RelayRecipientRow:
    line: int
    local_part: str
    domain: str

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"


@dataclass(slots=True)
class AliasDomainRow:
    line: int
    name: str
    target: str
    active: bool


@dataclass(slots=True)
class MailboxRow:
    line: int
    local_part: str
    domain: str
    password_hash: str | None  # kept as given
    password: str | None  # clear, hashed when written
    name: str
    quota: int | None  # None: the domain's per-mailbox maximum
    format: str
    path: str
    uid: int | None
    gid: int | None
    active: bool

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"


@dataclass(slots=True)
class AliasRow:
    line: int
    local_part: str  # "" for a catch-all
    domain: str
    destinations: tuple[str, ...]
    description: str
    active: bool

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"


def _field_error(column: str, exc: ValidationError) -> ValidationError:
    return ValidationError(f"{column}: {' '.join(exc.messages)}")


def parse_bool(cells: dict[str, str], column: str = "active") -> bool:
    text = cells.get(column, "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(
        _("%(column)s: “%(value)s” is not yes or no.") % {"column": column, "value": text}
    )


def parse_count(cells: dict[str, str], column: str) -> int:
    text = cells.get(column, "").strip()
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()):  # "²".isdigit(), but int("²") fails
        raise ValidationError(
            _("%(column)s: “%(value)s” is not a whole number (0 or empty: no limit).")
            % {"column": column, "value": text}
        )
    return int(text)


def parse_quota(cells: dict[str, str], column: str) -> int | None:
    text = cells.get(column, "").strip()
    if not text:
        return None
    try:
        return parse_size(text)
    except ValidationError as exc:
        raise _field_error(column, exc) from None


def parse_owner(cells: dict[str, str], column: str) -> int | None:
    text = cells.get(column, "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):  # "²".isdigit(), but int("²") fails
        raise ValidationError(
            _("%(column)s: “%(value)s” is not a number.") % {"column": column, "value": text}
        )
    try:
        return check_owner_id(int(text), field=column)
    except ValidationError as exc:
        raise _field_error(column, exc) from None


def _domain(text: str, column: str) -> str:
    try:
        return normalize_domain(text)
    except ValidationError as exc:
        raise _field_error(column, exc) from None


def parse_domain(line: int, cells: dict[str, str]) -> DomainRow:
    name = _domain(cells["name"], "name")
    delivery = cells.get("delivery", "").strip().lower() or Delivery.HOSTED
    try:
        transport = normalize_transport(cells.get("transport", ""))
    except ValidationError as exc:
        raise _field_error("transport", exc) from None
    check_delivery(delivery, transport)
    max_mailbox_quota = parse_quota(cells, "max_quota") or 0
    default_mailbox_quota = parse_quota(cells, "default_quota") or 0
    try:
        check_default_quota(default_mailbox_quota, max_mailbox_quota)
    except ValidationError as exc:
        raise _field_error("default_quota", exc) from None
    return DomainRow(
        line=line,
        name=name,
        description=_text(cells, "display_name"),
        delivery=delivery,
        transport=transport,
        max_mailboxes=parse_count(cells, "max_mailboxes"),
        max_aliases=parse_count(cells, "max_aliases"),
        max_mailbox_quota=max_mailbox_quota,
        total_quota=parse_quota(cells, "total_quota") or 0,
        default_mailbox_quota=default_mailbox_quota,
        uid=parse_owner(cells, "uid"),
        gid=parse_owner(cells, "gid"),
        active=parse_bool(cells),
        relay_accept_any=_accept_any(cells, delivery),
    )


def _accept_any(cells: dict[str, str], delivery: str) -> bool:
    """`accept_any`: empty is no (a new relay domain accepts its listed recipients only, as
    in domains.services.domain_create); a hosted domain ignores it."""
    if not cells.get("accept_any", "").strip():
        return False
    return parse_bool(cells, "accept_any") and delivery != Delivery.HOSTED


def parse_relay_recipient(line: int, cells: dict[str, str]) -> RelayRecipientRow:
    """`local@relaydomain`: the local part by the rule of every address (domains.relay)."""
    try:
        local_part, domain = split_address(cells["name"])
    except ValidationError as exc:
        raise _field_error("name", exc) from None
    return RelayRecipientRow(line=line, local_part=local_part, domain=domain)


def parse_alias_domain(line: int, cells: dict[str, str]) -> AliasDomainRow:
    name = _domain(cells["name"], "name")
    if not cells.get("target", "").strip():
        raise ValidationError(_("target: an alias domain needs the hosted domain it points to."))
    target = _domain(cells["target"], "target")
    return AliasDomainRow(line=line, name=name, target=target, active=parse_bool(cells))


def _path(cells: dict[str, str], domain: str, local_part: str, storage_format: str) -> str:
    given = cells.get("maildir", "").strip()
    if not given:
        return canonical_path(domain, local_part, storage_format)
    try:
        return check_path(
            given, domain=domain, local_part=local_part, storage_format=storage_format
        )
    except ValidationError as exc:
        raise _field_error("maildir", exc) from None


def _text(cells: dict[str, str], column: str) -> str:
    """A display name or description: at most 255 characters, no control characters."""
    text = cells.get(column, "").strip()[:255]
    try:
        validate_plain_text(text)
    except ValidationError as exc:
        raise _field_error(column, exc) from None
    return text


def parse_mailbox(line: int, cells: dict[str, str]) -> MailboxRow:
    try:
        local_part, domain = split_address(cells["name"])
    except ValidationError as exc:
        raise _field_error("name", exc) from None
    storage_format = cells.get("format", "").strip().lower() or StorageFormat.MAILDIR
    rules.check_storage_format(storage_format)
    secret = cells.get("password", "")
    password_hash = password = None
    if secret.startswith("{"):
        rules.check_password_hash(secret)
        password_hash = secret
    else:
        if not secret:
            # A service generates the password; a file must bring its own.
            raise ValidationError(_("password: a mailbox needs a password or a {SCHEME}hash."))
        rules.check_password(secret)
        password = secret
    path = _path(cells, domain, local_part, storage_format)
    return MailboxRow(
        line=line,
        local_part=local_part,
        domain=domain,
        password_hash=password_hash,
        password=password,
        name=_text(cells, "display_name"),
        quota=parse_quota(cells, "quota"),
        format=storage_format,
        path=path,
        uid=parse_owner(cells, "uid"),
        gid=parse_owner(cells, "gid"),
        active=parse_bool(cells),
    )


def parse_alias(line: int, cells: dict[str, str]) -> AliasRow:
    try:
        local_part, domain = split_address(cells["name"], allow_catchall=True)
    except ValidationError as exc:
        raise _field_error("name", exc) from None
    destinations = rules.clean_destinations(
        cells.get("destinations", "").translate(_SEPARATORS).split()
    )
    return AliasRow(
        line=line,
        local_part=local_part,
        domain=domain,
        destinations=tuple(destinations),
        description=_text(cells, "display_name"),
        active=parse_bool(cells),
    )
