"""Helpers the services share for writing rows safely."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from domains.models import MAX_ID


def save_checked(obj: models.Model, *, conflict: str, exclude: Iterable[str] = ()) -> None:
    """full_clean() and save `obj`; a unique-constraint race becomes a ValidationError.

    The constraint check in full_clean() gives the friendly message; the database constraint
    stays the judge when two requests race, and the savepoint keeps the outer transaction usable.
    """
    obj.full_clean(exclude=list(exclude))
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError(conflict, code="conflict") from None


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
