"""The relay recipients of one relay or backup-MX domain: list, search, add, delete.

A domain admin keeps the list of their own relay domain; whether the domain accepts every
recipient instead is a superadmin's setting on the domain form (domains/relay.py). A domain
the user may not see is a 404, and so is a recipient of another domain.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains import relay, selectors
from domains.forms import RelayRecipientForm
from domains.models import Domain
from mailadmin.access import panel_admin_required
from mailadmin.pagination import paginate
from mailadmin.rendering import actor, add_service_errors, redirect_after_post, render_page
from mailadmin.search import SEARCH_MAX


def _relay_domain(request: HttpRequest, name: str) -> Domain:
    domain = selectors.domain_get(user=request.user, name=name)
    if domain.is_hosted:
        raise Http404("a hosted domain has no relay recipients")
    return domain


def _list_url(domain: Domain) -> str:
    return reverse("domains:relay_recipients", args=[domain.name])


def _list_context(
    request: HttpRequest, domain: Domain, form: RelayRecipientForm | None = None
) -> dict[str, Any]:
    query = request.GET.get("q", "").strip()[:SEARCH_MAX]
    rows = selectors.relay_recipient_list(user=request.user, domain=domain, search=query)
    return {
        "domain": domain,
        "page": paginate(request, rows),
        "q": query,
        "form": form or RelayRecipientForm(),
    }


@panel_admin_required
@require_GET
def relay_recipient_list(request: HttpRequest, name: str) -> HttpResponse:
    domain = _relay_domain(request, name)
    return render_page(
        request, "domains/relay_recipients.html", _list_context(request, domain), partial="table"
    )


@panel_admin_required
@require_POST
def relay_recipient_add(request: HttpRequest, name: str) -> HttpResponse:
    domain = _relay_domain(request, name)
    form = RelayRecipientForm(request.POST)
    if form.is_valid():
        try:
            recipient = relay.relay_recipient_add(
                actor=actor(request), domain=domain, local_part=form.cleaned_data["local_part"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Mail for %(address)s is now accepted.") % {"address": recipient.display_address},
            )
            return redirect_after_post(request, _list_url(domain))
    # Invalid: the whole page again with the errors (200, so that htmx shows them too).
    return render_page(
        request, "domains/relay_recipients.html", _list_context(request, domain, form)
    )


@panel_admin_required
@require_http_methods(["GET", "POST"])
def relay_recipient_delete(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    domain = _relay_domain(request, name)
    recipient = selectors.relay_recipient_get(user=request.user, domain=domain, pk=pk)
    label = recipient.display_address
    if request.method == "POST":
        relay.relay_recipient_delete(actor=actor(request), recipient=recipient)
        messages.success(request, _("Mail for %(address)s is refused now.") % {"address": label})
        return redirect_after_post(request, _list_url(domain))
    context = {"domain": domain, "recipient": recipient, "cancel_url": _list_url(domain)}
    return render_page(request, "domains/relay_recipient_delete.html", context)
