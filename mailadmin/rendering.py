"""One view, two answers: the whole page for a normal request, only the part that changes for
an htmx request. Every page therefore works without JavaScript."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (a boosted link wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted  # type: ignore[union-attr]


def render_page(
    request: HttpRequest,
    page: str,
    partial: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """`partial` for htmx, `page` (which includes the partial) otherwise.

    Invalid forms answer 200 either way: htmx 2 drops the body of a 4xx response.
    """
    template = partial if wants_partial(request) else page
    return render(request, template, context, status=status)


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


def add_service_errors(form: Any, exc: Any) -> None:
    """Put a service's ValidationError on the form: per field where the form has that field,
    else at the top of the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


def actor(request: HttpRequest) -> AbstractBaseUser:
    """The logged-in admin, for a service's `actor=` (the access decorators let only them by)."""
    user = request.user
    assert isinstance(user, AbstractBaseUser)
    return user
