"""The address trace: what Postfix does with an address, read from the contract views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from domains.selectors import domain_is_visible
from mailadmin.access import is_superadmin, panel_admin_required
from mailadmin.contract.trace import trace_address
from mailadmin.names import domain_to_unicode
from mailadmin.rendering import render_page
from mailboxes.forms import TraceForm
from mailboxes.trace_notes import ModelTraceNotes
from mailboxes.trace_text import render_trace


@panel_admin_required
@require_GET
def trace(request: HttpRequest) -> HttpResponse:
    form = TraceForm(request.GET if "address" in request.GET else None)
    context: dict[str, Any] = {"form": form, "result": None, "refused": ""}
    if form.is_valid():
        address = form.cleaned_data["address"]
        domain = address.rpartition("@")[2]
        if is_superadmin(request.user):
            context["result"] = render_trace(trace_address(address, notes=ModelTraceNotes()))
        elif domain_is_visible(user=request.user, name=domain):
            seen: dict[str, bool] = {}

            def may_see(name: str) -> bool:
                # Past the admin's own domains every address gets the same line, whether this
                # server has its domain or not: telling them apart would say which domains
                # live here (docs/address-trace.md).
                if name not in seen:
                    seen[name] = domain_is_visible(user=request.user, name=name)
                return seen[name]

            result = trace_address(address, may_see=may_see, notes=ModelTraceNotes())
            context["result"] = render_trace(result)
        else:
            context["refused"] = _("%(domain)s is not one of your domains.") % {
                "domain": domain_to_unicode(domain)
            }
    return render_page(request, "mailboxes/trace.html", context, partial="result")
