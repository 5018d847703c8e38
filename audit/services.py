"""Writing audit entries. Every write service calls `record` after its change, inside the same
transaction, so a change and its entry are saved together or not at all."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.db import models

from audit.context import current_ip
from audit.models import AuditEntry


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None,
    domain: str | None,
    changes: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEntry:
    """Log `action` ("create", "update", "delete", ...) on `obj` by `actor`.

    `actor` is a Django user, or None for the operator's CLI and the system; `actor_label`
    names someone who is not a user (a mailbox owner's address). For a delete, call this
    before deleting, while `obj` still has its primary key.
    """
    entry = new_entry(
        actor=actor,
        action=action,
        obj=obj,
        domain=domain,
        changes=changes,
        actor_label=actor_label,
    )
    entry.save()
    return entry


def record_many(entries: list[AuditEntry]) -> None:
    """Save entries made by `new_entry` in one insert per thousand (bulk writers)."""
    AuditEntry.objects.bulk_create(entries, batch_size=1000)


def new_entry(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None,
    domain: str | None,
    changes: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEntry:
    """The unsaved entry `record` saves."""
    user = actor if actor is not None and getattr(actor, "pk", None) is not None else None
    label = actor_label or (user.get_username() if user is not None else "system")
    object_type = obj._meta.model_name if obj is not None else ""
    return AuditEntry(
        actor=user,
        actor_label=label[:254],
        ip=_valid_ip(current_ip.get()),
        action=action[:40],
        object_type=(object_type or "")[:40],
        object_id=str(obj.pk)[:64] if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:400] if obj is not None else "",
        domain=(domain or "")[:253],
        changes=changes or {},
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: [old, new]} for the fields whose value changed."""
    return {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }


def record_changes(
    *, actor: Any, obj: models.Model, domain: str | None, changes: dict[str, Any]
) -> None:
    """One entry for `changes` ({field: [old, new]}, from `diff`): "enable" or "disable" when
    only `active` changed, else "update"; none when nothing changed."""
    if not changes:
        return
    action = "update"
    if set(changes) == {"active"}:
        action = "enable" if changes["active"][1] else "disable"
    record(actor=actor, action=action, obj=obj, domain=domain, changes=changes)
