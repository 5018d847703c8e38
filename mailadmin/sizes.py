"""Quota sizes: parsed from what people type ("2G", "512 MiB", "0"), shown in binary units."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Binary multiples, as Dovecot reads quota sizes (1G = 1024^3 bytes).
_UNITS = {
    "": 1,
    "B": 1,
    "K": 1024,
    "M": 1024**2,
    "G": 1024**3,
    "T": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
MAX_QUOTA = 2**63 - 1


def parse_size(text: str) -> int:
    """Bytes in `text`; "0", "" and "unlimited" mean no limit (0)."""
    value = (text or "").strip()
    if value.lower() in {"", "0", "unlimited", "none"}:
        return 0
    match = _SIZE.match(value)
    if not match:
        raise ValidationError(
            _("“%(value)s” is not a size: write for example 500M, 2G or 1.5GiB."),
            code="invalid",
            params={"value": text},
        )
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        raise ValidationError(_("“%(value)s” is not a size."), params={"value": text}) from None
    size = int(number * _UNITS[match.group(2).upper()])
    if size > MAX_QUOTA:
        raise ValidationError(_("That size is too large."), code="too_large")
    return size


def parse_typed_size(text: str) -> int:
    """parse_size for what people type (the panel's forms, the CLI): a number other than 0
    needs a unit. "5" was five bytes, where an admin means 5 MB or 5 GB (PostfixAdmin reads
    its quotas in MB); bytes are written "5B". Files keep bare bytes (the CSV format)."""
    value = (text or "").strip()
    match = _SIZE.match(value)
    if match and value == match.group(1) and Decimal(match.group(1)) != 0:
        raise ValidationError(
            _("“%(value)s” has no unit: write %(value)sM or %(value)sG, or %(value)sB for bytes."),
            code="no_unit",
            params={"value": value},
        )
    return parse_size(text)


def format_size(size: int) -> str:
    """Human form of a byte count in binary units: 0 is shown as unlimited."""
    if size <= 0:
        return str(_("unlimited"))
    value = Decimal(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            text = f"{value:.1f}".rstrip("0").rstrip(".") if unit != "B" else str(int(value))
            return f"{text} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_used(size: int | None) -> str:
    """A byte count that is used or handed out, not a limit: 0 is "0 B", never unlimited."""
    return format_size(size) if size and size > 0 else "0 B"
