from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains import selectors, services
from domains.forms import DomainDescriptionForm, DomainSettingsForm, settings_initial
from domains.limits import LIMIT_FIELDS, limits_below_use
from mailadmin.access import is_superadmin, panel_admin_required, superadmin_required
from mailadmin.rendering import (
    actor,
    add_service_errors,
    redirect_after_post,
    render_fragment,
    render_page,
    safe_next,
    wants_partial,
)


@superadmin_required
@require_http_methods(["GET", "POST"])
def domain_create(request: HttpRequest) -> HttpResponse:
    form = DomainSettingsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            domain = services.domain_create(actor=actor(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("The domain %(name)s was created.") % {"name": domain.display_name}
            )
            return redirect_after_post(request, reverse("domains:detail", args=[domain.name]))
    context = {"form": form, "creating": True}
    return render_page(request, "domains/domain_form.html", context, partial="form")


@panel_admin_required
@require_http_methods(["GET", "POST"])
def domain_edit(request: HttpRequest, name: str) -> HttpResponse:
    """Superadmins change everything but the name; a domain admin only the description."""
    domain = selectors.domain_get(user=request.user, name=name)
    form: DomainSettingsForm | DomainDescriptionForm
    data = request.POST if request.method == "POST" else None
    if is_superadmin(request.user):
        form = DomainSettingsForm(data, creating=False, initial=settings_initial(domain))
    else:
        form = DomainDescriptionForm(data, initial={"description": domain.description})
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.domain_update(
                actor=actor(request), domain=domain, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("The domain %(name)s was saved.") % {"name": domain.display_name}
            )
            if LIMIT_FIELDS & set(form.changed_data):
                for warning in limits_below_use(updated):
                    messages.warning(request, warning)
            return redirect_after_post(request, reverse("domains:detail", args=[domain.name]))
    context = {"form": form, "creating": False, "domain": domain}
    return render_page(request, "domains/domain_form.html", context, partial="form")


@superadmin_required
@require_POST
def domain_toggle(request: HttpRequest, name: str) -> HttpResponse:
    """Enable or disable; `active` in the form says which (so a double submit is harmless)."""
    domain = selectors.domain_get(user=request.user, name=name)
    wanted = request.POST.get("active")
    active = (wanted == "1") if wanted in {"0", "1"} else not domain.active
    if domain.active and not active and request.POST.get("confirmed") != "1":
        # Disabling refuses mail to every address of the domain, so it is asked first: with
        # JavaScript by the button (hx-confirm, which then sends `confirmed`), else on a page.
        back = safe_next(request, reverse("domains:detail", args=[domain.name]))
        url = reverse("domains:disable", args=[domain.name])
        return redirect_after_post(request, f"{url}?{urlencode({'next': back})}")
    services.domain_set_active(actor=actor(request), domain=domain, active=active)
    text = _("%(name)s is now enabled.") if active else _("%(name)s is now disabled.")
    messages.success(request, text % {"name": domain.display_name})
    if wants_partial(request):
        row = selectors.domain_get_with_use(user=request.user, name=domain.name)
        return render_fragment(request, "domains/_domain_row.html", {"domain": row})
    return redirect_after_post(
        request, safe_next(request, reverse("domains:detail", args=[domain.name]))
    )


@superadmin_required
@require_GET
def domain_disable(request: HttpRequest, name: str) -> HttpResponse:
    """What disabling the domain does, asked before domain_toggle does it."""
    domain = selectors.domain_get(user=request.user, name=name)
    context = {
        "domain": domain,
        "impact": selectors.domain_delete_impact(domain),
        "next": safe_next(request, reverse("domains:detail", args=[domain.name])),
    }
    return render_page(request, "domains/domain_disable.html", context, partial="form")


def impact_text(impact: dict[str, int]) -> str:
    """ "3 mailboxes, 1 alias, 0 alias domains", with each language's plural forms."""
    return ", ".join(
        (
            ngettext("%(n)d mailbox", "%(n)d mailboxes", impact["mailboxes"])
            % {"n": impact["mailboxes"]},
            ngettext("%(n)d alias", "%(n)d aliases", impact["aliases"]) % {"n": impact["aliases"]},
            ngettext("%(n)d alias domain", "%(n)d alias domains", impact["alias_domains"])
            % {"n": impact["alias_domains"]},
        )
    )


@superadmin_required
@require_http_methods(["GET", "POST"])
def domain_delete(request: HttpRequest, name: str) -> HttpResponse:
    """GET: say exactly what goes with the domain; POST: delete it all."""
    domain = selectors.domain_get(user=request.user, name=name)
    impact = selectors.domain_delete_impact(domain)
    if request.method == "POST":
        services.domain_delete(actor=actor(request), domain=domain)
        messages.success(
            request,
            _("The domain %(name)s was deleted with %(what)s.")
            % {"name": domain.display_name, "what": impact_text(impact)},
        )
        return redirect_after_post(request, reverse("domains:list"))
    context: dict[str, Any] = {
        "domain": domain,
        "impact": impact,
        "impact_text": impact_text(impact),
    }
    return render_page(request, "domains/domain_delete.html", context, partial="form")
