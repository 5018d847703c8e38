"""One view, two answers: the whole page for a normal request, only the part that changes for
an htmx request. Every page therefore works without JavaScript.

A page and the part htmx swaps are one template: the part is a partial of the page
(`{% partialdef table inline %}`), rendered alone as `"page.html#table"`. The views read htmx
only through `wants_partial` and set its headers only through these helpers (and
`django_htmx.http`), never by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (a boosted link, and htmx restoring a page
    from history, want the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not (htmx.boosted or htmx.history_restore_request)  # type: ignore[union-attr]


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    event: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole `template`; for htmx only its `partial` (`template#partial`), and then the
    client `event` too (a page listens for it to reload a table). Without `partial`, htmx gets
    the whole page as well.

    Invalid forms answer 200 either way: htmx 2 drops the body of a 4xx response.
    """
    if partial is None or not wants_partial(request):
        return render(request, template, context, status=status)
    return _with_event(render(request, f"{template}#{partial}", context, status=status), event)


def render_fragment(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    event: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """A part that only htmx asks for (a table row it swaps, a row it removes), with the
    pending messages out of band (`oob_messages` tells a row template to include them) and an
    optional client event."""
    context = {**(context or {}), "oob_messages": True}
    return _with_event(render(request, template, context, status=status), event)


def _with_event(response: HttpResponse, event: str | None) -> HttpResponse:
    if event:
        trigger_client_event(response, event)
    return response


def redirect_after_post(request: HttpRequest, url: str) -> HttpResponse:
    """Post/redirect/get; htmx follows with a full page load (HX-Redirect)."""
    if wants_partial(request):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` field or parameter when it points into this site, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def add_service_errors(
    form: forms.BaseForm, exc: ValidationError, fields: Mapping[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form, each message on its field.

    A service names its keys after the model (`address`, `format`); `fields` maps those that
    the form calls otherwise (`{"address": "local_part"}`). A key that names no field of the
    form, and a message without a key, go to the top of the form.
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        name = (fields or {}).get(key, key)
        target = name if name in form.fields else None
        for error in errors:
            form.add_error(target, error)


def actor(request: HttpRequest) -> AbstractBaseUser:
    """The logged-in admin, for a service's `actor=` (the access decorators let only them by)."""
    user = request.user
    assert isinstance(user, AbstractBaseUser)
    return user
