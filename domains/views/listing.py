from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from domains import selectors
from domains.forms import DomainSearchForm
from mailadmin.access import is_superadmin, panel_admin_required
from mailadmin.pagination import paginate_then_fill
from mailadmin.rendering import render_page

PER_PAGE = 50


@panel_admin_required
@require_http_methods(["GET"])
def domain_list(request: HttpRequest) -> HttpResponse:
    """Search as you type (htmx swaps the table), sort by column, page through on the server."""
    form = DomainSearchForm(request.GET)
    term, order = form.search()
    page = paginate_then_fill(
        request,
        selectors.domain_list(user=request.user, search=term, order=order, counts=False),
        selectors.domains_with_use,
        PER_PAGE,
    )
    context = {
        "page": page,
        "form": form,
        "term": term,
        "order": order,
        "pager_target": "#domain-table",
    }
    return render_page(request, "domains/domain_list.html", context, partial="table")


@panel_admin_required
@require_http_methods(["GET"])
def domain_detail(request: HttpRequest, name: str) -> HttpResponse:
    domain = selectors.domain_get_with_use(user=request.user, name=name)
    admins = list(domain.admins.order_by("username")) if is_superadmin(request.user) else []
    context = {"domain": domain, "domain_admins": admins}
    return render_page(request, "domains/domain_detail.html", context, partial="card")
