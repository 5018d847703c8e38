"""Aliases of one domain, the catch-all among them: list with search, create, edit the
destinations, enable/disable, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains.models import Domain
from mailadmin.access import panel_admin_required
from mailadmin.pagination import paginate_keyset
from mailboxes import selectors, services
from mailboxes.display import alias_label
from mailboxes.forms import AliasCreateForm, AliasEditForm, add_service_errors
from mailboxes.models import Alias
from mailboxes.views.common import actor, domain_from_url, flash, fragment, is_htmx, search_term

CHANGED = "aliases-changed"
CREATE_FIELDS = {
    "address": "local_part",
    "destinations": "destinations",
    "description": "description",
}


def _list_url(domain: Domain) -> str:
    return reverse("mailboxes:alias_list", args=[domain.name])


@panel_admin_required
@require_GET
def alias_list(request: HttpRequest, domain: str) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    query = search_term(request)
    page = paginate_keyset(
        request,
        selectors.alias_list(user=request.user, domain=the_domain, search=query),
        key="local_part",
    )
    context: dict[str, Any] = {"domain": the_domain, "page": page, "q": query, "tab": "aliases"}
    if is_htmx(request):
        return render(request, "mailboxes/_alias_table.html", context)
    context["catchall"] = selectors.catchall_of(user=request.user, domain=the_domain)
    return render(request, "mailboxes/alias_list.html", context)


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
            )
        except ValidationError as exc:
            add_service_errors(form, exc, CREATE_FIELDS)
        else:
            flash(request, _("Alias %(address)s created.") % {"address": alias_label(alias)})
            if is_htmx(request):
                context = {"domain": the_domain, "form": AliasCreateForm(), "tab": "aliases"}
                return fragment(request, "mailboxes/_alias_create.html", context, event=CHANGED)
            return redirect(_list_url(the_domain))
    context = {"domain": the_domain, "form": form, "tab": "aliases"}
    if is_htmx(request):
        return fragment(request, "mailboxes/_alias_create.html", context)
    return render(request, "mailboxes/alias_create.html", context)


def _row(request: HttpRequest, domain: Domain, alias: Alias) -> HttpResponse:
    return fragment(request, "mailboxes/_alias_row_swap.html", {"domain": domain, "alias": alias})


@panel_admin_required
@require_GET
def alias_row(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    alias = selectors.alias_in_domain(user=request.user, domain=the_domain, pk=pk)
    if not is_htmx(request):
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
            add_service_errors(form, exc, {"destinations": "destinations"})
        else:
            flash(request, _("Alias %(address)s saved.") % {"address": alias_label(alias)})
            if is_htmx(request):
                fresh = selectors.alias_in_domain(user=request.user, domain=the_domain, pk=pk)
                return _row(request, the_domain, fresh)
            return redirect(_list_url(the_domain))
    context = {"domain": the_domain, "alias": alias, "form": form, "tab": "aliases"}
    if is_htmx(request):
        return fragment(request, "mailboxes/_alias_edit_row.html", context)
    return render(request, "mailboxes/alias_edit.html", context)


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
    if is_htmx(request):
        if request.POST.get("from") == "catchall":
            # The catch-all box and its row both show the state: reload the page's parts.
            return fragment(
                request,
                "mailboxes/_catchall_box.html",
                {"domain": the_domain, "catchall": alias},
                event=CHANGED,
            )
        return _row(request, the_domain, alias)
    return redirect(_list_url(the_domain))


@panel_admin_required
@require_http_methods(["GET", "POST"])
def alias_delete(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    alias = selectors.alias_in_domain(user=request.user, domain=the_domain, pk=pk)
    label = alias_label(alias)
    if request.method == "POST":
        services.alias_delete(actor=actor(request), alias=alias)
        flash(request, _("Alias %(address)s deleted.") % {"address": label})
        if is_htmx(request):
            return fragment(request, "mailboxes/_removed_row.html", {})
        return redirect(_list_url(the_domain))
    context = {
        "domain": the_domain,
        "tab": "aliases",
        "question": _("Delete the alias %(address)s?") % {"address": label},
        "detail": "",
        "cancel_url": _list_url(the_domain),
    }
    return render(request, "mailboxes/confirm_delete.html", context)
