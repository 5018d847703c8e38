"""Search across every domain the admin may see: the top bar's results as they type (the
popup), and the same search as a page (Enter, or without JavaScript)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from mailadmin.access import panel_admin_required
from mailadmin.rendering import render_page
from mailboxes.search_all import MIN_TERM, SHOWN_IN_POPUP, SHOWN_ON_PAGE, search_all

TERM_MAX = 255


@panel_admin_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    context = _context(request, limit=SHOWN_ON_PAGE, in_popup=False)
    return render_page(request, "mailboxes/search.html", context, partial="page")


@panel_admin_required
@require_GET
def search_popup(request: HttpRequest) -> HttpResponse:
    """The first few of each kind, for the box in the top bar (htmx swaps it in)."""
    context = _context(request, limit=SHOWN_IN_POPUP, in_popup=True)
    return render(request, "mailboxes/search.html#results", context)


def _context(request: HttpRequest, *, limit: int, in_popup: bool) -> dict[str, object]:
    term = request.GET.get("q", "")[:TERM_MAX]
    return {
        "results": search_all(user=request.user, term=term, limit=limit),
        "min_term": MIN_TERM,
        "in_popup": in_popup,
    }
