"""Admin login, logout, password change and the management of admins (superadmins only)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import forms, services, throttle
from accounts.models import LoginKind
from accounts.selectors import admin_get, admins, throttle_get, throttles
from mailadmin.access import is_panel_admin, panel_admin_required, superadmin_required
from mailadmin.client_ip import client_ip
from mailadmin.pagination import paginate
from mailadmin.rendering import (
    actor,
    add_service_errors,
    redirect_after_post,
    render_page,
    safe_next,
)


def _local_next(request: HttpRequest, default: str) -> str:
    """safe_next, and only a path: a bare word such as "foo" is no page of this site."""
    url = safe_next(request, default)
    return url if url.startswith("/") else default


def _with_retry_after(response: HttpResponse, seconds: int) -> HttpResponse:
    # The page says when in words; Retry-After says it to scripts. The status stays 200, as
    # for every invalid form (htmx 2 drops the body of a 4xx answer).
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and is_panel_admin(request.user):
        return HttpResponseRedirect(_local_next(request, reverse("mailboxes:dashboard")))
    form = forms.LoginForm(request.POST or None)
    wait = 0
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        identity = throttle.admin_identity(username)
        user = None
        try:
            with throttle.guard(
                kind=LoginKind.ADMIN, identity=identity, ip=client_ip(request)
            ) as attempt:
                user = authenticate(
                    request, username=username, password=form.cleaned_data["password"]
                )
                # A valid password of someone who is not an admin fails like a wrong one.
                if user is not None and is_panel_admin(user):
                    attempt.succeeded()
        except throttle.Throttled as exc:
            wait = exc.seconds
            form.add_error(None, throttle.wait_message(wait))
        else:
            if attempt.ok and user is not None:
                login(request, user)
                return redirect_after_post(
                    request, _local_next(request, reverse("mailboxes:dashboard"))
                )
            form.add_error(None, _("Wrong username or password."))
    context = {"form": form, "next": _local_next(request, "")}
    response = render_page(request, "accounts/login.html", context, partial="form")
    return _with_retry_after(response, wait)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect_after_post(request, reverse("accounts:login"))


def _check_current_password(request: HttpRequest, form: PasswordChangeForm) -> int:
    """Validate the form, its current password under the throttle (key space of its own, so
    that the form neither delays nor is delayed by logins); the seconds to wait instead, if
    the current password may not be checked yet."""
    if not request.POST.get("old_password"):
        form.is_valid()  # nothing is guessed: "required" needs no throttle
        return 0
    try:
        with throttle.guard(
            kind=LoginKind.ADMIN_PASSWORD,
            identity=request.user.get_username(),
            ip=client_ip(request),
        ) as attempt:
            form.is_valid()
            # The form keeps old_password only when it was checked and right.
            if "old_password" in form.cleaned_data:
                attempt.succeeded()
    except throttle.Throttled as exc:
        return exc.seconds
    return 0


@sensitive_post_parameters()
@login_required
@panel_admin_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    wait = _check_current_password(request, form) if request.method == "POST" else 0
    if wait:
        # Not checked while waiting: an empty form, and when it will be.
        form = PasswordChangeForm(request.user)
    elif request.method == "POST" and form.is_valid():
        try:
            services.admin_set_password(
                actor=actor(request), user=request.user, password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
            messages.success(request, _("Your password was changed."))
            return redirect_after_post(request, reverse("mailboxes:dashboard"))
    context = {"form": form, "wait_message": throttle.wait_message(wait) if wait else ""}
    response = render_page(request, "accounts/password_change.html", context, partial="form")
    return _with_retry_after(response, wait)


# --- admin management (superadmins) ------------------------------------------------------------


@superadmin_required
@require_http_methods(["GET"])
def admin_list(request: HttpRequest) -> HttpResponse:
    search = forms.AdminSearchForm(request.GET)
    term = search.cleaned_data.get("q", "") if search.is_valid() else ""
    page = paginate(request, admins(search=term))
    context = {"page": page, "search": search, "pager_target": "#admin-table"}
    return render_page(request, "accounts/admin_list.html", context, partial="table")


def _show_password_once(request: HttpRequest, user: Any, password: str) -> HttpResponse:
    context = {"admin": user, "password": password}
    response = render_page(request, "accounts/password_shown.html", context, partial="shown")
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
    return render_page(request, "accounts/admin_create.html", {"form": form}, partial="form")


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
    return render_page(request, "accounts/admin_detail.html", context, partial="panel")


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
    return render_page(request, "accounts/admin_detail.html", context, partial="panel")


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
    return render_page(request, "accounts/admin_delete.html", context, partial="form")


# --- login throttles (superadmins) -------------------------------------------------------------


@superadmin_required
@require_http_methods(["GET"])
def throttle_list(request: HttpRequest) -> HttpResponse:
    """Every counter not yet forgotten: who fails from where, and who must wait until when."""
    page = paginate(request, throttles())
    context = {"page": page, "now": timezone.now(), "pager_target": "#throttle-table"}
    return render_page(request, "accounts/throttle_list.html", context, partial="table")


@superadmin_required
@require_POST
def throttle_lift(request: HttpRequest, pk: int) -> HttpResponse:
    row = throttle_get(pk=pk)
    services.throttle_lift(actor=actor(request), throttle=row)
    messages.success(request, _("The throttle was lifted: %(key)s.") % {"key": row})
    return redirect_after_post(request, reverse("accounts:throttle_list"))
