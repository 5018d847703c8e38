"""Reads of admin accounts: superadmins only (the views check), the CLI as the system."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from domains.models import Domain


def admins(*, search: str = "") -> QuerySet[Any]:
    """Superadmins and users with at least one domain, with their domains prefetched."""
    user_model = get_user_model()
    qs = user_model.objects.annotate(domain_count=Count("administered_domains")).filter(
        Q(is_superuser=True) | Q(domain_count__gt=0)
    )
    if search:
        qs = qs.filter(username__icontains=search.strip())
    return qs.prefetch_related(
        Prefetch("administered_domains", queryset=Domain.objects.order_by("name"))
    ).order_by("username")


def admin_get(*, username: str) -> Any:
    user_model = get_user_model()
    try:
        return user_model.objects.get(username=username)
    except user_model.DoesNotExist:
        raise Http404("no such admin") from None
