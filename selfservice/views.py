"""The owners' pages (/me/): login, overview, password, forwarding, logout."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.throttle import wait_message
from mailadmin.client_ip import client_ip
from mailadmin.rendering import add_service_errors, redirect_after_post, render_page
from mailadmin.sizes import format_size
from mailboxes.display import usage_of
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_set_language
from selfservice import selectors, services
from selfservice.forms import ForwardingForm, OwnerLoginForm, PasswordChangeForm
from selfservice.models import PasswordPolicy
from selfservice.session import (
    current_owner,
    login_owner,
    logout_owner,
    owner_required,
    remember_owner,
)
from sieve.client_scripts import client_scripts_of


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if current_owner(request) is not None:
        return redirect("selfservice:home")
    form = OwnerLoginForm(request.POST if request.method == "POST" else None)
    wait = 0
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = services.owner_login(
                address=form.cleaned_data["address"],
                password=form.cleaned_data["password"],
                ip=client_ip(request),
            )
        except services.OwnerLoginLocked as exc:
            wait = exc.seconds
            form.add_error(None, wait_message(wait))
        except services.OwnerLoginFailed:
            # One message for a wrong password, an unknown address, a disabled mailbox or
            # domain: the answer must not tell which.
            form.add_error(
                None,
                _("The address or the password is wrong, or this mailbox may not log in here."),
            )
        else:
            login_owner(request, mailbox)
            # The quota warnings Dovecot writes them come in the language they log in with.
            mailbox_set_language(mailbox=mailbox, language=get_language())
            if mailbox.must_change_password:
                messages.info(
                    request, _("Your mail administrator asks you to choose a new password.")
                )
                return redirect_after_post(request, reverse("selfservice:password"))
            return redirect_after_post(request, reverse("selfservice:home"))
    response = render_page(request, "selfservice/login.html", {"form": form})
    if wait:
        # Status 200 like every refused login; the header says the wait to scripts.
        response["Retry-After"] = str(wait)
    return response


@never_cache
@owner_required
def home_view(request: HttpRequest, owner: Mailbox) -> HttpResponse:
    context = {
        "owner": owner,
        "quota": format_size(owner.quota) if owner.quota else "",
        # What Dovecot last reported; None until it has (shown as "not reported yet").
        "usage": usage_of(owner),
        "forwarding": selectors.forwarding_of(owner),
        "aliases": selectors.aliases_delivering_to(owner),
        "alias_domain_addresses": selectors.alias_domain_addresses(owner),
        # The scripts of the owner's mail programs, as Dovecot lists them (or why it could not).
        "client_scripts": client_scripts_of(owner),
    }
    return render_page(request, "selfservice/home.html", context)


@sensitive_post_parameters("current_password", "new_password", "new_password_again")
@never_cache
@require_http_methods(["GET", "POST"])
@owner_required(allow_pending_change=True)
def password_view(request: HttpRequest, owner: Mailbox) -> HttpResponse:
    form = PasswordChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.owner_change_password(
                mailbox=owner,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
                ip=client_ip(request),
            )
        except services.OwnerLoginLocked as exc:
            # Too many wrong current passwords: the session ends like a locked login.
            logout_owner(request)
            messages.error(request, wait_message(exc.seconds))
            return redirect_after_post(request, reverse("selfservice:login"))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # This session stays valid; others of this owner end with the old hash.
            request.session.cycle_key()
            remember_owner(request, changed)
            messages.success(
                request,
                _("Your password is changed. Use the new one in your mail program too."),
            )
            return redirect_after_post(request, reverse("selfservice:home"))
    context = {"owner": owner, "form": form, "policy": PasswordPolicy.load()}
    return render_page(request, "selfservice/password.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@owner_required
def forwarding_view(request: HttpRequest, owner: Mailbox) -> HttpResponse:
    state = selectors.forwarding_of(owner)
    initial = {"destinations": "\n".join(state.destinations), "keep_copy": state.keep_copy}
    form = ForwardingForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.owner_set_forwarding(
                mailbox=owner,
                destinations=form.cleaned_data["destinations"],
                keep_copy=form.cleaned_data["keep_copy"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if saved.destinations:
                messages.success(request, _("Forwarding is saved."))
            else:
                messages.success(request, _("Forwarding is off: your mail stays in this mailbox."))
            return redirect_after_post(request, reverse("selfservice:forwarding"))
    context = {"owner": owner, "form": form, "state": state, "domain": owner.domain}
    return render_page(request, "selfservice/forwarding.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    was_owner = current_owner(request) is not None
    if was_owner:
        logout_owner(request)
        messages.info(request, _("You are logged out."))
    return redirect_after_post(request, reverse("selfservice:login"))
