"""The site's own middleware: what every request may hold, and what every response says.

- InputGuardMiddleware: a 400 for a control or invisible character in the path, the query
  string or a form field's name, and for a control character in a form field's value (the rule
  of mailadmin/text.py), before any view can pass one to the database: PostgreSQL refuses NUL
  in text, so a NUL in `?q=` or in `/accounts/admins/<name>/` was a 500, and the other
  characters have no place in a URL or a form either.
- ContentSecurityPolicyMiddleware: the panel runs no inline script and no inline style, so the
  policy allows only the site's own files.
- NoStoreMiddleware: pages are never kept by the browser or a proxy (a shared computer's "back"
  button must not show a logged-out admin's mailboxes); static files keep their caching.
- SessionTimeoutMiddleware: a session ends after MAILADMIN_SESSION_IDLE_SECONDS without a
  request, and MAILADMIN_SESSION_MAX_SECONDS after it began, active or not.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.cache import patch_cache_control

from mailadmin.text import describe, unsafe_character

log = logging.getLogger(__name__)

Handler = Callable[[HttpRequest], HttpResponse]


# --- input --------------------------------------------------------------------------------------


def _refused_in_form(value: str) -> str | None:
    """A form value may hold line breaks and tabs (textareas). Of the rest, only the control
    characters are the guard's: the invisible formatting ones (a zero-width space or a bidi mark
    pasted with a name) are left to the form, whose validators name them in a message next to
    the field, where a 400 would leave an htmx form without an answer (htmx 2 drops the body of
    a 4xx). Every POST value the views read goes through a form. Passwords get the same rule: a
    password may hold any printable character, and an emoji sequence holds a zero-width joiner.
    """
    controls = "".join(ch for ch in value if unicodedata.category(ch) == "Cc")
    return unsafe_character(controls, allow_newlines=True)


def _first_refused(request: HttpRequest) -> tuple[str, str] | None:
    """(where, character) of the first character the request may not hold, or None.

    File contents are not looked at: they are the importer's to judge (it names the line), and
    Django already strips the names of uploaded files of unprintable characters.
    """
    if (ch := unsafe_character(request.path)) is not None:
        return "path", ch
    for key, values in request.GET.lists():
        for text in (key, *values):
            if (ch := unsafe_character(text)) is not None:
                return "query string", ch
    if request.method == "POST":
        for key, values in request.POST.lists():
            if (ch := unsafe_character(key)) is not None:
                return "form field", ch
            for value in values:
                if (ch := _refused_in_form(value)) is not None:
                    return "form field", ch
    return None


class InputGuardMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = _first_refused(request)
        if refused is not None:
            where, ch = refused
            # The character is named, never written: it is what logs must not hold.
            log.warning("refused a request: %s in the %s", describe(ch), where)
            return HttpResponseBadRequest(
                f"Bad request: the {where} holds a character that is not allowed: "
                f"{describe(ch)}.\n",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


# --- response headers ---------------------------------------------------------------------------

# Scripts are htmx from the site's own static files ({% htmx_script %}); htmx's own indicator
# <style> is turned off in base.html (htmx-config), so styles need no 'unsafe-inline' either.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class NoStoreMiddleware:
    """Below WhiteNoise in MIDDLEWARE: the static files it serves never come through here."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response


# --- sessions -----------------------------------------------------------------------------------

SEEN_KEY = "_mailadmin_seen"
STARTED_KEY = "_mailadmin_started"


def idle_seconds() -> int:
    return int(settings.MAILADMIN_SESSION_IDLE_SECONDS)


def max_seconds() -> int:
    return int(settings.MAILADMIN_SESSION_MAX_SECONDS)


class SessionTimeoutMiddleware:
    """Any session that holds something (an admin's login, an owner's) expires when idle.

    The stamps ride on the writes a session gets anyway (every login writes it); apart from
    those, the last activity is written at most every tenth of the idle limit (and at most every
    minute), so a page that polls does not write the session on each request and a page view
    costs no write. A new session key is a new login: the lifetime starts again. A session with
    no stamp yet (written before this middleware, or by the test client's force_login) is
    stamped at its next write; until then Django's own expiry (SESSION_COOKIE_AGE) bounds it.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        key = session.session_key
        now = int(time.time())
        if SEEN_KEY in session and (
            now - session[SEEN_KEY] > idle_seconds()
            or now - session.get(STARTED_KEY, now) > max_seconds()
        ):
            session.flush()
            request.user = AnonymousUser()
        response = self.get_response(request)
        if session.keys():
            if session.session_key != key or (session.modified and STARTED_KEY not in session):
                session[STARTED_KEY] = now
            step = min(60, max(1, idle_seconds() // 10))
            if session.modified or (SEEN_KEY in session and now - session[SEEN_KEY] >= step):
                session[SEEN_KEY] = now
        return response
