from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from audit.forms import AuditFilterForm
from audit.selectors import audit_list
from domains.selectors import domains_visible_to
from mailadmin.access import panel_admin_required
from mailadmin.names import domain_to_unicode
from mailadmin.pagination import paginate
from mailadmin.rendering import render_page

PER_PAGE = 50


@panel_admin_required
@require_http_methods(["GET"])
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who changed what, when and from where; domain admins see their domains' entries only."""
    names = list(domains_visible_to(request.user).order_by("name").values_list("name", flat=True))
    form = AuditFilterForm(request.GET or None, domains=[(n, domain_to_unicode(n)) for n in names])
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
