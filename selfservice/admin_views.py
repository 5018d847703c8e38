"""Admin controls over the self-service, under /me/admin/ (admins only, never owners).

A mailbox's owner access (force a password change, disable the panel login) and a domain's
forwarding limits are scoped through the selectors like every admin page: an object outside
the admin's domains is a 404. The password policy is for superadmins.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from domains.selectors import domain_get
from mailadmin.access import panel_admin_required, superadmin_required
from mailadmin.rendering import add_service_errors, redirect_after_post, render_page
from mailboxes.selectors import mailbox_get
from selfservice import services
from selfservice.forms import DomainForwardingForm, OwnerAccessForm, PasswordPolicyForm
from selfservice.models import PasswordPolicy
from sieve.client_scripts import client_scripts_of


@require_http_methods(["GET", "POST"])
@panel_admin_required
def mailbox_access_view(request: HttpRequest, address: str) -> HttpResponse:
    mailbox = mailbox_get(user=request.user, address=address)
    initial = {
        "panel_login_enabled": mailbox.panel_login_enabled,
        "must_change_password": mailbox.must_change_password,
    }
    form = OwnerAccessForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.mailbox_set_owner_access(
            actor=request.user,  # type: ignore[arg-type]
            mailbox=mailbox,
            panel_login_enabled=form.cleaned_data["panel_login_enabled"],
            must_change_password=form.cleaned_data["must_change_password"],
        )
        messages.success(request, _("The owner's access is saved."))
        return redirect_after_post(
            request, reverse("selfservice:admin_mailbox", args=[mailbox.address])
        )
    context = {
        "mailbox": mailbox,
        "form": form,
        # What the owner's mail programs keep over ManageSieve, beside the owner's access.
        "client_scripts": client_scripts_of(mailbox),
    }
    return render_page(request, "selfservice/admin_mailbox.html", context)


@require_http_methods(["GET", "POST"])
@panel_admin_required
def domain_forwarding_view(request: HttpRequest, name: str) -> HttpResponse:
    domain = domain_get(user=request.user, name=name)
    initial = {"owner_forwarding": domain.owner_forwarding, "max_forwards": domain.max_forwards}
    form = DomainForwardingForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.domain_set_owner_forwarding(
                actor=request.user,  # type: ignore[arg-type]
                domain=domain,
                owner_forwarding=form.cleaned_data["owner_forwarding"],
                max_forwards=form.cleaned_data["max_forwards"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The forwarding limits are saved."))
            return redirect_after_post(
                request, reverse("selfservice:admin_domain_forwarding", args=[domain.name])
            )
    return render_page(request, "selfservice/admin_domain.html", {"domain": domain, "form": form})


@require_http_methods(["GET", "POST"])
@superadmin_required
def policy_view(request: HttpRequest) -> HttpResponse:
    policy = PasswordPolicy.load()
    initial = {
        "min_length": policy.min_length,
        "forbid_address": policy.forbid_address,
        "forbid_common": policy.forbid_common,
    }
    form = PasswordPolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_policy_update(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The password policy is saved."))
            return redirect_after_post(request, reverse("selfservice:admin_policy"))
    return render_page(request, "selfservice/admin_policy.html", {"form": form})
