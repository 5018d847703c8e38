"""Admin login, logout, password change and the management of admins (superadmins only)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import forms, services, throttle
from accounts.selectors import admin_get, admins
from mailadmin.access import is_panel_admin, panel_admin_required, superadmin_required
from mailadmin.pagination import paginate
from mailadmin.rendering import (
    actor,
    add_service_errors,
    redirect_after_post,
    render_page,
    safe_next,
)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and is_panel_admin(request.user):
        return redirect(safe_next(request, reverse("domains:dashboard")))
    form = forms.LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        ip = throttle.client_ip(request)
        locked = throttle.seconds_locked(username=username, ip=ip)
        if locked:
            minutes = max(1, (locked + 59) // 60)
            form.add_error(
                None,
                ngettext(
                    "Too many failed logins. Try again in %(n)d minute.",
                    "Too many failed logins. Try again in %(n)d minutes.",
                    minutes,
                )
                % {"n": minutes},
            )
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            # A valid password of someone who is not an admin fails like a wrong one.
            if user is not None and is_panel_admin(user):
                throttle.record_success(username=username, ip=ip)
                login(request, user)
                return redirect_after_post(
                    request, safe_next(request, reverse("domains:dashboard"))
                )
            throttle.record_failure(username=username, ip=ip, kind="admin")
            form.add_error(None, _("Wrong username or password."))
    context = {"form": form, "next": safe_next(request, "")}
    return render_page(request, "accounts/login.html", "accounts/_login_form.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect_after_post(request, reverse("accounts:login"))


@sensitive_post_parameters()
@login_required
@panel_admin_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.admin_set_password(
                actor=actor(request), user=request.user, password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
            messages.success(request, _("Your password was changed."))
            return redirect_after_post(request, reverse("domains:dashboard"))
    return render_page(
        request, "accounts/password_change.html", "accounts/_password_form.html", {"form": form}
    )


# --- admin management (superadmins) ------------------------------------------------------------


@superadmin_required
@require_http_methods(["GET"])
def admin_list(request: HttpRequest) -> HttpResponse:
    search = forms.AdminSearchForm(request.GET)
    term = search.cleaned_data.get("q", "") if search.is_valid() else ""
    page = paginate(request, admins(search=term))
    context = {"page": page, "search": search, "pager_target": "#admin-table"}
    return render_page(request, "accounts/admin_list.html", "accounts/_admin_table.html", context)


def _show_password_once(request: HttpRequest, user: Any, password: str) -> HttpResponse:
    context = {"admin": user, "password": password}
    response = render_page(
        request, "accounts/password_shown.html", "accounts/_password_shown.html", context
    )
    add_never_cache_headers(response)
    return response


@sensitive_post_parameters("password")
@superadmin_required
@require_http_methods(["GET", "POST"])
def admin_create(request: HttpRequest) -> HttpResponse:
    form = forms.AdminCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, generated = services.admin_create(
                actor=actor(request),
                username=data["username"],
                password=data["password"] or None,
                superadmin=data["superadmin"],
                domains=data["domains"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The admin %(name)s was created.") % {"name": user})
            if generated:
                return _show_password_once(request, user, generated)
            return redirect_after_post(
                request, reverse("accounts:admin_detail", args=[user.get_username()])
            )
    return render_page(
        request, "accounts/admin_create.html", "accounts/_admin_create_form.html", {"form": form}
    )


def _detail_context(user: Any, **forms_: Any) -> dict[str, Any]:
    return {
        "admin": user,
        "granted": list(user.administered_domains.order_by("name")),
        "roles_form": forms_.get("roles_form")
        or forms.AdminRolesForm(
            initial={"superadmin": user.is_superuser, "active": user.is_active}
        ),
        "grant_form": forms_.get("grant_form") or forms.GrantForm(),
    }


@superadmin_required
@require_http_methods(["GET", "POST"])
def admin_detail(request: HttpRequest, username: str) -> HttpResponse:
    """The admin's roles (POST changes superadmin and active) and domains."""
    user = admin_get(username=username)
    roles_form = None
    if request.method == "POST":
        roles_form = forms.AdminRolesForm(request.POST)
        if roles_form.is_valid():
            try:
                services.admin_set_roles(
                    actor=actor(request),
                    user=user,
                    superadmin=roles_form.cleaned_data["superadmin"],
                    active=roles_form.cleaned_data["active"],
                )
            except ValidationError as exc:
                add_service_errors(roles_form, exc)
            else:
                messages.success(request, _("The admin %(name)s was saved.") % {"name": user})
                return redirect_after_post(
                    request, reverse("accounts:admin_detail", args=[username])
                )
    context = _detail_context(user, roles_form=roles_form)
    return render_page(request, "accounts/admin_detail.html", "accounts/_admin_panel.html", context)


@superadmin_required
@require_POST
def admin_grant(request: HttpRequest, username: str) -> HttpResponse:
    user = admin_get(username=username)
    form = forms.GrantForm(request.POST)
    if form.is_valid():
        try:
            services.admin_grant(
                actor=actor(request), user=user, domains=form.cleaned_data["domains"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Domains granted."))
            return redirect_after_post(request, reverse("accounts:admin_detail", args=[username]))
    context = _detail_context(user, grant_form=form)
    return render_page(request, "accounts/admin_detail.html", "accounts/_admin_panel.html", context)


@superadmin_required
@require_POST
def admin_revoke(request: HttpRequest, username: str) -> HttpResponse:
    user = admin_get(username=username)
    form = forms.RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.admin_revoke(
                actor=actor(request), user=user, domains=[form.cleaned_data["domain"]]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Domain revoked."))
    return redirect_after_post(request, reverse("accounts:admin_detail", args=[username]))


@superadmin_required
@require_POST
def admin_reset_password(request: HttpRequest, username: str) -> HttpResponse:
    user = admin_get(username=username)
    generated = services.admin_set_password(actor=actor(request), user=user)
    assert generated is not None
    return _show_password_once(request, user, generated)


@superadmin_required
@require_http_methods(["GET", "POST"])
def admin_delete(request: HttpRequest, username: str) -> HttpResponse:
    user = admin_get(username=username)
    error = ""
    if request.method == "POST":
        try:
            services.admin_delete(actor=actor(request), user=user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("The admin %(name)s was deleted.") % {"name": username})
            return redirect_after_post(request, reverse("accounts:admin_list"))
    context = {"admin": user, "error": error}
    return render_page(
        request, "accounts/admin_delete.html", "accounts/_admin_delete_form.html", context
    )
