"""Small helpers the per-domain views share."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import trigger_client_event

from domains.models import Domain
from domains.selectors import domain_get

SEARCH_MAX = 100


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def search_term(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:SEARCH_MAX]


def domain_from_url(request: HttpRequest, name: str) -> Domain:
    """The URL's domain if the user may see it; a 404 otherwise."""
    return domain_get(user=request.user, name=name)


def fragment(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    event: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """An htmx fragment, with pending messages (out-of-band) and an optional client event
    that tells the page to reload its table."""
    context = {**context, "oob_messages": True}
    response = render(request, template, context, status=status)
    if event:
        trigger_client_event(response, event)
    return response


def flash(request: HttpRequest, text: str) -> None:
    messages.success(request, text)


def actor(request: HttpRequest) -> AbstractBaseUser:
    """The logged-in admin (panel_admin_required has let only them through)."""
    user = request.user
    assert isinstance(user, AbstractBaseUser)
    return user
