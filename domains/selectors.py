"""Reads of domains, scoped to what the asking user may see.

Every view, command and API asks here: a superuser sees every domain, a domain admin only the
domains granted to them, anyone else nothing. An object outside the scope is a 404.
"""

from __future__ import annotations

import idna
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from domains.models import AliasDomain, Domain
from domains.names import normalize_domain

User = AbstractBaseUser | AnonymousUser


def domains_visible_to(user: User | None) -> QuerySet[Domain]:
    """Domains `user` may see; None is the system itself (CLI run by the operator)."""
    if user is None or getattr(user, "is_superuser", False):
        return Domain.objects.all()
    if not user.is_authenticated or not getattr(user, "is_active", False):
        return Domain.objects.none()
    return Domain.objects.filter(admins__pk=user.pk)


def domain_list(*, user: User | None, search: str = "") -> QuerySet[Domain]:
    """Visible domains with their mailbox and alias counts as annotations (one query)."""
    qs = domains_visible_to(user)
    if search:
        term = search.strip()
        qs = qs.filter(
            Q(name__contains=search_form_of(term))
            | Q(name__contains=term.lower())
            | Q(description__icontains=term)
        )
    return qs.annotate(
        mailbox_count=Count("mailboxes", distinct=True),
        alias_count=Count("aliases", distinct=True),
    ).order_by("name")


def search_form_of(term: str) -> str:
    """A typed fragment as it is stored: "bücher" finds xn--bcher-kva.example."""
    if term.isascii():
        return term.lower()
    try:
        return idna.encode(term.lower(), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return term.lower()


def domain_get(*, user: User | None, name: str) -> Domain:
    try:
        canonical = normalize_domain(name)
    except ValidationError:
        raise Http404("no such domain") from None
    try:
        return domains_visible_to(user).get(name=canonical)
    except Domain.DoesNotExist:
        raise Http404("no such domain") from None


def domain_get_by_pk(*, user: User | None, pk: int) -> Domain:
    try:
        return domains_visible_to(user).get(pk=pk)
    except Domain.DoesNotExist:
        raise Http404("no such domain") from None


def alias_domains_visible_to(user: User | None) -> QuerySet[AliasDomain]:
    """Alias domains whose target the user may see (both sides are checked on writes)."""
    return AliasDomain.objects.filter(target__in=domains_visible_to(user)).select_related("target")


def alias_domain_get(*, user: User | None, name: str) -> AliasDomain:
    try:
        canonical = normalize_domain(name)
    except ValidationError:
        raise Http404("no such alias domain") from None
    try:
        return alias_domains_visible_to(user).get(name=canonical)
    except AliasDomain.DoesNotExist:
        raise Http404("no such alias domain") from None
