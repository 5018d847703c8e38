"""The owner's identity in the session, apart from Django's auth (owners are not users).

The session holds the mailbox id and a keyed fingerprint of its password hash under a key of
its own. Each request reloads the mailbox and checks it again: a password changed elsewhere
(by an admin, or by the owner in another browser), a disabled mailbox, domain or panel login
ends the session at once. A session never holds an owner and an admin together.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from mailboxes.models import Mailbox
from selfservice.services import may_log_in

OWNER_SESSION_KEY = "_selfservice_owner"

View = Callable[..., HttpResponse]


def _fingerprint(stored_hash: str) -> str:
    return salted_hmac("selfservice.session", stored_hash, algorithm="sha256").hexdigest()


def login_owner(request: HttpRequest, mailbox: Mailbox) -> None:
    if request.user.is_authenticated:
        auth_logout(request)  # flushes the admin's session: one identity per session
    request.session.cycle_key()  # a new session id at login: no session fixation
    rotate_token(request)  # and a new CSRF secret, as Django's login() makes for admins
    remember_owner(request, mailbox)


def remember_owner(request: HttpRequest, mailbox: Mailbox) -> None:
    """(Re)write the owner's session entry, e.g. after the owner's own password change."""
    request.session[OWNER_SESSION_KEY] = {"id": mailbox.pk, "hash": _fingerprint(mailbox.password)}


def logout_owner(request: HttpRequest) -> None:
    request.session.flush()


def current_owner(request: HttpRequest) -> Mailbox | None:
    """The logged-in owner's mailbox, or None (and the entry is dropped when it went stale)."""
    entry = request.session.get(OWNER_SESSION_KEY)
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), int):
        return None
    if request.user.is_authenticated:
        # An admin logged in after the owner in this browser: the admin wins, the owner goes.
        del request.session[OWNER_SESSION_KEY]
        return None
    mailbox = Mailbox.objects.select_related("domain").filter(pk=entry["id"]).first()
    if (
        mailbox is None
        or not may_log_in(mailbox)
        or not constant_time_compare(str(entry.get("hash", "")), _fingerprint(mailbox.password))
    ):
        del request.session[OWNER_SESSION_KEY]
        return None
    return mailbox


def owner_required(view: View | None = None, *, allow_pending_change: bool = False) -> Any:
    """Only for a logged-in owner; others go to the owner login. An owner whose admin asked for a
    new password sees only the password page until it is changed. The view gets the owner's
    mailbox as its second argument."""

    def decorate(func: View) -> View:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            mailbox = current_owner(request)
            if mailbox is None:
                return redirect("selfservice:login")
            if mailbox.must_change_password and not allow_pending_change:
                return redirect(reverse("selfservice:password"))
            return func(request, mailbox, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
