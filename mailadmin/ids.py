"""Unix uids and gids that mail is delivered as."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The largest id PostgreSQL's integer and Dovecot's uid_t both hold.
MAX_ID = 2_147_483_647


def check_owner_id(value: int | None, *, field: str) -> int | None:
    """A uid or gid must be at least MAILADMIN_MIN_UID: mail is never delivered as root."""
    if value is None:
        return None
    minimum = settings.MAILADMIN_MIN_UID
    if not minimum <= value <= MAX_ID:
        raise ValidationError(
            {
                field: ValidationError(
                    _("%(field)s must be between %(min)d and %(max)d."),
                    params={"field": field, "min": minimum, "max": MAX_ID},
                    code="out_of_range",
                )
            }
        )
    return value
