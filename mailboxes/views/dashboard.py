"""The panel's home page: what the admin sees, and what needs attention, across domains."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from domains import selectors
from mailadmin.access import panel_admin_required
from mailadmin.rendering import render_page
from mailboxes.selectors import dashboard_summary, mailboxes_nearly_full

# The dashboard shows the fullest few; the domain's list filtered "over 90%" shows them all.
NEARLY_FULL_SHOWN = 5


@panel_admin_required
@require_http_methods(["GET"])
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts, domains near their limits, mailboxes nearly full, inactive items and what
    needs attention."""
    user = request.user
    summary = dashboard_summary(user=user)
    near = selectors.domains_near_limits(user=user)
    full = mailboxes_nearly_full(user=user, limit=NEARLY_FULL_SHOWN + 1)
    inactive = selectors.inactive_domains(user=user)
    empty = selectors.hosted_domains_without_mailboxes(user=user)
    context = {
        "summary": summary,
        "near_limits": near,
        "nearly_full": full[:NEARLY_FULL_SHOWN],
        "more_nearly_full": len(full) > NEARLY_FULL_SHOWN,
        "inactive_domains": inactive,
        "empty_domains": empty,
        "needs_attention": bool(near or full or inactive or empty),
    }
    return render_page(request, "dashboard.html", context, partial="body")
