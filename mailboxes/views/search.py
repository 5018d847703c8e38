"""Search across every domain the admin may see: the top bar's results as they type, and the
same search as a page (Enter, or without JavaScript)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from mailadmin.access import panel_admin_required
from mailadmin.rendering import htmx_target, render_page
from mailboxes.search_all import MIN_TERM, SHOWN_IN_POPUP, SHOWN_ON_PAGE, search_all

POPUP = "search-popup"


@panel_admin_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    term = request.GET.get("q", "")[:255]
    in_popup = htmx_target(request) == POPUP
    limit = SHOWN_IN_POPUP if in_popup else SHOWN_ON_PAGE
    context = {
        "results": search_all(user=request.user, term=term, limit=limit),
        "min_term": MIN_TERM,
        "in_popup": in_popup,
    }
    if in_popup:
        return render_page(request, "mailboxes/search.html", context, partial="results")
    return render_page(request, "mailboxes/search.html", context, partial="page")
