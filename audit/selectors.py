"""Reads of the audit log, scoped: domain admins see only their domains' entries."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from audit.models import AuditEntry
from domains.selectors import domains_visible_to
from mailadmin.access import User, is_superadmin
from mailadmin.search import contains_text


def audit_entries_visible_to(user: User | None) -> QuerySet[AuditEntry]:
    if is_superadmin(user):
        return AuditEntry.objects.all()
    names = domains_visible_to(user).values("name")
    return AuditEntry.objects.filter(domain__in=names)


def audit_list(
    *,
    user: User | None,
    actor: str = "",
    domain: str = "",
    object_type: str = "",
    day: date | None = None,
) -> QuerySet[AuditEntry]:
    qs = audit_entries_visible_to(user)
    if actor:
        qs = qs.filter(contains_text("actor_label", actor.strip()))
    if domain:
        qs = qs.filter(domain=domain)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if day is not None:
        qs = qs.filter(created_at__date=day)
    return qs.order_by("-created_at", "-id")
