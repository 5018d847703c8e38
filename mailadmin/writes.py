"""Helpers the services share for writing rows safely."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
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


class Checks:
    """Independent checks of one write, run all before any error is raised, so that a form
    shows every mistake at once instead of one per submit:

        checks = Checks()
        with checks:
            rules.check_quota(...)
        with checks:
            rules.check_password(...)
        checks.raise_errors()

    A check that later ones depend on (the domain exists) stays outside and raises at once.
    """

    def __init__(self) -> None:
        self._errors: dict[str, list[ValidationError]] = {}

    def __enter__(self) -> Checks:
        return self

    def __exit__(self, kind: object, error: BaseException | None, _tb: object) -> bool:
        if not isinstance(error, ValidationError):
            return False
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self._errors.setdefault(field, []).extend(errors)
        else:
            self._errors.setdefault(NON_FIELD_ERRORS, []).extend(error.error_list)
        return True

    def raise_errors(self) -> None:
        if self._errors:
            raise ValidationError(self._errors)
