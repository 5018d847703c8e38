"""Reads of admin accounts and login throttles: superadmins only (the views check), the CLI as
the system."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import LoginThrottle
from domains.models import Domain
from mailadmin.search import contains_text


def admins(*, search: str = "") -> QuerySet[Any]:
    """Superadmins and users with at least one domain, with their domains prefetched."""
    user_model = get_user_model()
    qs = user_model.objects.annotate(domain_count=Count("administered_domains")).filter(
        Q(is_superuser=True) | Q(domain_count__gt=0)
    )
    if search:
        qs = qs.filter(contains_text("username", search.strip()))
    return qs.prefetch_related(
        Prefetch("administered_domains", queryset=Domain.objects.order_by("name"))
    ).order_by("username")


def admin_get(*, username: str) -> Any:
    user_model = get_user_model()
    try:
        return user_model.objects.get(username=username)
    except user_model.DoesNotExist:
        raise Http404("no such admin") from None


def throttles() -> QuerySet[LoginThrottle]:
    """Counters with failures that are not yet forgotten, the latest failure first."""
    return LoginThrottle.objects.filter(failures__gt=0, expires_at__gte=timezone.now()).order_by(
        F("last_failure").desc(nulls_last=True), "-pk"
    )


def throttle_get(*, pk: int) -> LoginThrottle:
    try:
        return LoginThrottle.objects.get(pk=pk)
    except LoginThrottle.DoesNotExist:
        raise Http404("no such throttle") from None


def throttles_matching(
    *, identities: set[str], network: str, kind: str = ""
) -> QuerySet[LoginThrottle]:
    """Counters of any of `identities` and/or of `network` (an empty argument matches all)."""
    rows = LoginThrottle.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    if identities:
        rows = rows.filter(identity__in=identities)
    if network:
        rows = rows.filter(network=network)
    return rows.order_by("kind", "identity", "network")
