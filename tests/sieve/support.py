"""What the sieve tests share: the rows the services write, and a refusal that changes none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from audit.models import AuditEntry
from sieve.models import FilterRule, SieveScript, SieveSettings, Vacation


def state() -> list[list[dict[str, Any]]]:
    """Every row the sieve services write, to prove that a refusal changed nothing."""
    models: tuple[type[Model], ...] = (Vacation, FilterRule, SieveSettings, SieveScript, AuditEntry)
    return [list(model._default_manager.order_by("pk").values()) for model in models]


def refused(call: Callable[..., Any], **kwargs: Any) -> dict[str, list[str]]:
    """`call(**kwargs)` raises a ValidationError and changes nothing; its messages by field."""
    before = state()
    with pytest.raises(ValidationError) as info, transaction.atomic():
        call(**kwargs)
    assert state() == before
    return info.value.message_dict
