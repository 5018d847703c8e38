"""Helpers the services share for writing rows safely."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from mailadmin.access import is_superadmin

_UNIQUE_CODES = {"unique", "unique_together"}


def _codes(error: ValidationError) -> set[str | None]:
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors}
    return {e.code for e in error.error_list}


def save_checked(obj: models.Model, *, conflict: str, exclude: Iterable[str] = ()) -> None:
    """full_clean() and save `obj`; a duplicate, found early or in a race, says `conflict`.

    full_clean() finds the duplicate in the common case; the database constraint stays the
    judge when two requests race, and the savepoint keeps the outer transaction usable.
    """
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        if _UNIQUE_CODES & _codes(exc):
            raise ValidationError(conflict, code="conflict") from None
        raise
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError(conflict, code="conflict") from None


def not_yours(actor: object, name: str) -> str:
    """The message for a domain the actor cannot use; the same whether it exists or not."""
    if is_superadmin(actor):  # type: ignore[arg-type]
        return _("There is no domain %(name)s.") % {"name": name}
    return _("%(name)s is not one of your domains.") % {"name": name}
