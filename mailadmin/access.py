"""Who may reach the admin panel: superadmins and domain admins, nobody else.

Mailbox owners are not Django users and never pass these checks; the self-service pages have
their own guard. What each admin may see inside the panel is decided by the selectors.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import Http404
from django.utils.translation import gettext as _

# Who asks a service or a selector: an admin, or None for the operator's CLI and the jobs it
# starts, which may do anything (whoever runs manage.py already holds the database).
Actor = AbstractBaseUser | None
# What a selector may be handed: also a request's user before login.
User = AbstractBaseUser | AnonymousUser


def is_superadmin(actor: User | None) -> bool:
    """The one check of full rights: the operator (None), or an active superadmin."""
    if actor is None:
        return True
    return bool(
        actor.is_authenticated and actor.is_active and getattr(actor, "is_superuser", False)
    )


def require_superadmin(actor: User | None) -> None:
    if not is_superadmin(actor):
        raise PermissionDenied(_("Only a superadmin can do this."))


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
