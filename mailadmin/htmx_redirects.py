"""An htmx request sent to a login page takes the whole window there.

htmx follows a redirect inside its own request and swaps what comes back into its target. When
the session has ended (a logout in another tab, the idle or lifetime limit), the panel's and the
owners' guards redirect to their login page, and htmx swapped that page into a table row or a
form slot: "Disable" made the row vanish although nothing was done, "New mailbox" put a bare
login form inside the page. HX-Redirect has the browser load the login page itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

Handler = Callable[[HttpRequest], HttpResponse]

LOGIN_VIEWS = ("accounts:login", "selfservice:login")


@cache
def _login_paths() -> frozenset[str]:
    return frozenset(reverse(name) for name in LOGIN_VIEWS)


def _page_path(current_url: str) -> str:
    """The path and query of the page the browser shows (htmx's HX-Current-URL)."""
    parts = urlsplit(current_url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def login_redirect_for_window(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """`response` itself, unless it sends an htmx request to a login page: then the same
    login page for the window, whose `next` is the page shown, not the endpoint htmx asked
    (which may answer POST only)."""
    if request.headers.get("HX-Request") != "true" or response.status_code not in (301, 302):
        return response
    target = urlsplit(response["Location"])
    if target.path not in _login_paths():
        return response
    query = parse_qsl(target.query)
    current = request.headers.get("HX-Current-URL", "")
    if any(name == "next" for name, _ in query):
        query = [(n, v) for n, v in query if n != "next"]
        page = _page_path(current) if current else ""
        # The header is the client's word: only a path of this site (the login view checks
        # `next` again before it follows it).
        if page.startswith("/") and not page.startswith("//"):
            query.append(("next", page))
    url = f"{target.path}?{urlencode(query)}" if query else target.path
    return HttpResponseClientRedirect(url)


class HtmxLoginRedirectMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return login_redirect_for_window(request, self.get_response(request))
