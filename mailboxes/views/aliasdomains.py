"""Alias domains of one hosted domain: `user@alias` delivers as `user@domain`.

Both sides must be the admin's: the target is the URL's domain (a foreign one is a 404), and
a domain admin may add only the names a superadmin allowed for that domain (the grants on the
same page, domains.services.check_alias_domain_allowed).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains import selectors, services
from domains.models import AliasDomain, Domain
from mailadmin.access import is_superadmin, panel_admin_required, superadmin_required
from mailadmin.pagination import paginate
from mailadmin.rendering import (
    actor,
    add_service_errors,
    redirect_after_post,
    render_fragment,
    render_page,
    wants_partial,
)
from mailboxes.forms import AliasDomainCreateForm, AliasDomainGrantForm
from mailboxes.views.common import domain_from_url, flash, search_term

CHANGED = "aliasdomains-changed"
CREATE_PAGE = "mailboxes/aliasdomain_create.html"


def _list_url(domain: Domain) -> str:
    return reverse("mailboxes:aliasdomain_list", args=[domain.name])


def _in_domain(request: HttpRequest, domain: Domain, pk: int) -> AliasDomain:
    return selectors.alias_domain_in_domain(user=request.user, target=domain, pk=pk)


@panel_admin_required
@require_GET
def aliasdomain_list(request: HttpRequest, domain: str) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    query = search_term(request)
    rows = selectors.alias_domain_list(user=request.user, target=the_domain, search=query)
    page = paginate(request, rows)
    context: dict[str, Any] = {
        "domain": the_domain,
        "page": page,
        "q": query,
        "tab": "aliasdomains",
    }
    return render_page(request, "mailboxes/aliasdomain_list.html", context, partial="table")


@panel_admin_required
@require_http_methods(["GET", "POST"])
def aliasdomain_create(request: HttpRequest, domain: str) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    form = AliasDomainCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            alias_domain = services.alias_domain_create(
                actor=actor(request), name=form.cleaned_data["name"], target=the_domain.name
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            flash(
                request,
                _("%(alias)s is now an alias domain of %(domain)s.")
                % {"alias": alias_domain.display_name, "domain": the_domain.display_name},
            )
            if not wants_partial(request):
                return redirect_after_post(request, _list_url(the_domain))
            # htmx: a fresh form for the next one; the list reloads its table on the event.
            context = {"domain": the_domain, "form": AliasDomainCreateForm()}
            return render_page(request, CREATE_PAGE, context, partial="form", event=CHANGED)
    context = {"domain": the_domain, "form": form, "tab": "aliasdomains"}
    if not wants_partial(request):
        # Only the whole page lists the grants; the form alone needs no query for them.
        context = _with_grants(request, context)
    return render_page(request, CREATE_PAGE, context, partial="form")


def _with_grants(
    request: HttpRequest, context: dict[str, Any], grant_form: AliasDomainGrantForm | None = None
) -> dict[str, Any]:
    domain = context["domain"]
    context["grants"] = list(selectors.alias_domain_grants(user=request.user, domain=domain))
    if is_superadmin(request.user):
        context["grant_form"] = grant_form or AliasDomainGrantForm()
    return context


def _create_url(domain: Domain) -> str:
    return reverse("mailboxes:aliasdomain_create", args=[domain.name])


@superadmin_required
@require_POST
def aliasdomain_grant_create(request: HttpRequest, domain: str) -> HttpResponse:
    """Allow the domain's admins to add a name as its alias domain."""
    the_domain = domain_from_url(request, domain)
    form = AliasDomainGrantForm(request.POST)
    if form.is_valid():
        try:
            grant = services.alias_domain_grant_create(
                actor=actor(request), name=form.cleaned_data["name"], domain=the_domain
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            flash(
                request,
                _("The admins of %(domain)s may now add %(name)s as an alias domain.")
                % {"domain": the_domain.display_name, "name": grant.display_name},
            )
            return redirect_after_post(request, _create_url(the_domain))
    context = {"domain": the_domain, "form": AliasDomainCreateForm(), "tab": "aliasdomains"}
    return render_page(request, CREATE_PAGE, _with_grants(request, context, form))


@superadmin_required
@require_POST
def aliasdomain_grant_delete(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    grant = selectors.alias_domain_grant_get(user=request.user, domain=the_domain, pk=pk)
    services.alias_domain_grant_delete(actor=actor(request), grant=grant)
    flash(request, _("%(name)s is no longer allowed.") % {"name": grant.display_name})
    return redirect_after_post(request, _create_url(the_domain))


@panel_admin_required
@require_POST
def aliasdomain_toggle(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    alias_domain = _in_domain(request, the_domain, pk)
    alias_domain = services.alias_domain_set_active(
        actor=actor(request), alias_domain=alias_domain, active=not alias_domain.active
    )
    if alias_domain.active:
        flash(request, _("Alias domain %(name)s enabled.") % {"name": alias_domain.display_name})
    else:
        flash(request, _("Alias domain %(name)s disabled.") % {"name": alias_domain.display_name})
    if wants_partial(request):
        context = {"domain": the_domain, "alias_domain": alias_domain}
        return render_fragment(request, "mailboxes/_aliasdomain_row.html", context)
    return redirect_after_post(request, _list_url(the_domain))


@panel_admin_required
@require_http_methods(["GET", "POST"])
def aliasdomain_delete(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    alias_domain = _in_domain(request, the_domain, pk)
    label = alias_domain.display_name
    if request.method == "POST":
        services.alias_domain_delete(actor=actor(request), alias_domain=alias_domain)
        flash(request, _("Alias domain %(name)s deleted.") % {"name": label})
        if wants_partial(request):
            # Nothing in place of the row, and the message out of band.
            return render_fragment(request, "includes/oob_messages.html")
        return redirect_after_post(request, _list_url(the_domain))
    context = {
        "domain": the_domain,
        "tab": "aliasdomains",
        "question": _("Delete the alias domain %(name)s?") % {"name": label},
        "detail": _("Mail to its addresses will be refused at once."),
        "cancel_url": _list_url(the_domain),
    }
    return render_page(request, "mailboxes/confirm_delete.html", context)
