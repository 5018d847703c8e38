"""Aliases of one domain, the catch-all among them: list with search, create, edit the
destinations, enable/disable, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains.models import Domain
from mailadmin.access import panel_admin_required
from mailadmin.pagination import PAGE_SIZES, paginate_keyset, per_page
from mailadmin.rendering import (
    actor,
    add_service_errors,
    redirect_after_post,
    render_fragment,
    render_page,
    wants_partial,
)
from mailboxes import selectors, services
from mailboxes.bulk_forms import BulkForm
from mailboxes.display import alias_label
from mailboxes.forms import AliasCreateForm, AliasEditForm
from mailboxes.models import Alias
from mailboxes.views.common import domain_from_url, flash, search_term, status_filter, totals

CHANGED = "aliases-changed"
# The service's names for the form's fields where they differ.
CREATE_FIELDS = {"address": "local_part"}


def _list_url(domain: Domain) -> str:
    return reverse("mailboxes:alias_list", args=[domain.name])


@panel_admin_required
@require_GET
def alias_list(request: HttpRequest, domain: str) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    query = search_term(request)
    status, active = status_filter(request)
    page = paginate_keyset(
        request,
        selectors.alias_list(user=request.user, domain=the_domain, search=query, active=active),
        key="local_part",
        per_page=per_page(request),
    )
    context: dict[str, Any] = {
        "domain": the_domain,
        "page": page,
        "q": query,
        "status": status,
        "tab": "aliases",
        "page_sizes": PAGE_SIZES,
    }
    if not wants_partial(request):
        # Only the whole page shows the catch-all box; the table alone needs no query for it.
        context["catchall"] = selectors.catchall_of(user=request.user, domain=the_domain)
        context["bulk_form"] = BulkForm(auto_id="alias-bulk-%s")
        context["totals"] = totals(the_domain)
    return render_page(request, "mailboxes/alias_list.html", context, partial="table")


@panel_admin_required
@require_http_methods(["GET", "POST"])
def alias_create(request: HttpRequest, domain: str) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    initial = {"catchall": request.GET.get("catchall") == "1"}
    form = AliasCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            alias = services.alias_create(
                actor=actor(request),
                address=f"{data['local_part']}@{the_domain.name}",
                destinations=data["destinations"],
                description=data["description"],
                mailbox_copy=data["mailbox_copy"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, CREATE_FIELDS)
        else:
            flash(request, _("Alias %(address)s created.") % {"address": alias_label(alias)})
            if not wants_partial(request):
                return redirect_after_post(request, _list_url(the_domain))
            # htmx: a fresh form for the next alias; the list reloads its table on the event.
            context = {"domain": the_domain, "form": AliasCreateForm(), "tab": "aliases"}
            return render_page(
                request, "mailboxes/alias_create.html", context, partial="form", event=CHANGED
            )
    context = {"domain": the_domain, "form": form, "tab": "aliases"}
    return render_page(request, "mailboxes/alias_create.html", context, partial="form")


def _row(request: HttpRequest, domain: Domain, alias: Alias) -> HttpResponse:
    return render_fragment(request, "mailboxes/_alias_row.html", {"domain": domain, "alias": alias})


@panel_admin_required
@require_GET
def alias_row(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    alias = selectors.alias_in_domain(user=request.user, domain=the_domain, pk=pk)
    if not wants_partial(request):
        return redirect(_list_url(the_domain))
    return _row(request, the_domain, alias)


@panel_admin_required
@require_http_methods(["GET", "POST"])
def alias_edit(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    alias = selectors.alias_in_domain(user=request.user, domain=the_domain, pk=pk)
    initial = {"destinations": [d.address for d in alias.destinations.all()]}
    form = AliasEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.alias_set_destinations(
                actor=actor(request), alias=alias, destinations=form.cleaned_data["destinations"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            flash(request, _("Alias %(address)s saved.") % {"address": alias_label(alias)})
            if wants_partial(request):
                fresh = selectors.alias_in_domain(user=request.user, domain=the_domain, pk=pk)
                return _row(request, the_domain, fresh)
            return redirect_after_post(request, _list_url(the_domain))
    context = {"domain": the_domain, "alias": alias, "form": form, "tab": "aliases"}
    return render_page(request, "mailboxes/alias_edit.html", context, partial="row")


def _flash_state(request: HttpRequest, alias: Alias) -> None:
    if alias.active:
        flash(request, _("Alias %(address)s enabled.") % {"address": alias_label(alias)})
    else:
        flash(request, _("Alias %(address)s disabled.") % {"address": alias_label(alias)})


@panel_admin_required
@require_POST
def alias_toggle(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    alias = selectors.alias_in_domain(user=request.user, domain=the_domain, pk=pk)
    refused = False
    try:
        services.alias_set_active(actor=actor(request), alias=alias, active=not alias.active)
    except ValidationError as exc:
        # Only switching on can be refused: it would close an alias loop.
        messages.error(request, " ".join(exc.messages))
        refused = True
    alias = selectors.alias_in_domain(user=request.user, domain=the_domain, pk=pk)
    if not refused:
        _flash_state(request, alias)
    if not wants_partial(request):
        return redirect_after_post(request, _list_url(the_domain))
    if request.POST.get("from") == "catchall":
        # The catch-all box and its row both show the state: reload the page's parts.
        return render_page(
            request,
            "mailboxes/alias_list.html",
            {"domain": the_domain, "catchall": alias},
            partial="catchall",
            event=CHANGED,
        )
    return _row(request, the_domain, alias)


@panel_admin_required
@require_http_methods(["GET", "POST"])
def alias_delete(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    alias = selectors.alias_in_domain(user=request.user, domain=the_domain, pk=pk)
    label = alias_label(alias)
    if request.method == "POST":
        services.alias_delete(actor=actor(request), alias=alias)
        flash(request, _("Alias %(address)s deleted.") % {"address": label})
        if wants_partial(request):
            # Nothing in place of the row, and the message out of band.
            return render_fragment(request, "includes/oob_messages.html")
        return redirect_after_post(request, _list_url(the_domain))
    context = {
        "domain": the_domain,
        "tab": "aliases",
        "question": _("Delete the alias %(address)s?") % {"address": label},
        "detail": "",
        "cancel_url": _list_url(the_domain),
    }
    return render_page(request, "mailboxes/confirm_delete.html", context)
