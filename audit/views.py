from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from audit.forms import AuditFilterForm
from audit.selectors import audit_list
from domains.selectors import domain_is_visible
from mailadmin.access import is_superadmin, panel_admin_required
from mailadmin.pagination import paginate
from mailadmin.rendering import render_page

PER_PAGE = 50


@panel_admin_required
@require_http_methods(["GET"])
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who changed what, when and from where; domain admins see their domains' entries only."""

    def may_see(name: str) -> bool:
        # Entries outlive their domains: a superadmin may filter by a deleted one.
        return is_superadmin(request.user) or domain_is_visible(user=request.user, name=name)

    form = AuditFilterForm(request.GET or None, may_see=may_see)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    entries = audit_list(
        user=request.user,
        actor=filters.get("actor", ""),
        domain=filters.get("domain", ""),
        object_type=filters.get("object_type", ""),
        day=filters.get("day"),
    )
    page = paginate(request, entries, PER_PAGE)
    context = {"form": form, "page": page, "pager_target": "#audit-table"}
    return render_page(request, "audit/audit_list.html", context, partial="table")
