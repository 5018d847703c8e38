"""Who may reach the admin panel: superadmins and domain admins, nobody else.

Mailbox owners are not Django users and never pass these checks; the self-service pages have
their own guard. What each admin may see inside the panel is decided by the selectors.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import Http404


def is_superadmin(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def is_panel_admin(user: Any) -> bool:
    """A superadmin, or an active user with at least one domain granted."""
    if not (user.is_authenticated and user.is_active):
        return False
    return bool(user.is_superuser or user.administered_domains.exists())


View = Callable[..., HttpResponse]


def panel_admin_required(view: View) -> View:
    """Anonymous users go to the login page; a logged-in non-admin gets a 404, as for any
    object outside their scope."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_panel_admin(request.user):
            raise Http404("not an admin")
        return view(request, *args, **kwargs)

    return wrapper


def superadmin_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_superadmin(request.user):
            raise Http404("superadmins only")
        return view(request, *args, **kwargs)

    return wrapper
