"""Mailboxes of one domain: list with search, create (with a generated password shown once),
edit, password reset, enable/disable, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap

from domains.models import Domain
from mailadmin.access import is_superadmin, panel_admin_required
from mailadmin.pagination import PAGE_SIZES, paginate_keyset, paginate_segments, per_page
from mailadmin.passwords import generate_password
from mailadmin.rendering import (
    actor,
    add_service_errors,
    redirect_after_post,
    render_fragment,
    render_page,
    wants_partial,
)
from mailboxes import selectors, services
from mailboxes.bulk_forms import MailboxBulkForm
from mailboxes.forms import MailboxCreateForm, MailboxEditForm, PasswordResetForm
from mailboxes.models import Mailbox, StorageFormat
from mailboxes.views.common import domain_from_url, flash, search_term, status_filter, totals

CHANGED = "mailboxes-changed"
# The service's names for the form's fields where they differ.
CREATE_FIELDS = {"address": "local_part", "format": "storage_format"}


def _list_url(domain: Domain) -> str:
    return reverse("mailboxes:mailbox_list", args=[domain.name])


@panel_admin_required
@require_GET
def mailbox_list(request: HttpRequest, domain: str) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    query = search_term(request)
    # "alice@example.com" typed in full finds alice: the list is of one domain already.
    local_part = query.rpartition("@")[0] if "@" in query else query
    order = request.GET.get("sort", "")
    nearly_full = request.GET.get("full") == "1"
    status, active = status_filter(request)
    storage_format = request.GET.get("format", "")
    if storage_format not in StorageFormat.values:
        storage_format = ""
    filters: dict[str, Any] = {
        "active": active,
        "storage_format": storage_format,
        "nearly_full": nearly_full,
    }
    if order in selectors.USAGE_ORDERINGS:
        segments = selectors.mailbox_list_by_usage(
            user=request.user,
            domain=the_domain,
            search=local_part,
            fullest_first=order == "-usage",
            **filters,
        )
        page: Any = paginate_segments(request, segments, per_page=per_page(request))
    else:
        order = ""
        mailboxes = selectors.mailbox_list(
            user=request.user, domain=the_domain, search=local_part, **filters
        )
        page = paginate_keyset(request, mailboxes, key="local_part", per_page=per_page(request))
    context = {
        "domain": the_domain,
        "page": page,
        "q": query,
        "sort": order,
        "full": nearly_full,
        "status": status,
        "storage_format": storage_format,
        "formats": StorageFormat.choices,
        "tab": "mailboxes",
        "page_sizes": PAGE_SIZES,
    }
    if not wants_partial(request):
        # Only the whole page shows the totals; the table alone needs no query for them.
        context["totals"] = totals(the_domain)
        context["bulk_form"] = MailboxBulkForm(auto_id="mailbox-bulk-%s")
    return render_page(request, "mailboxes/mailbox_list.html", context, partial="table")


@panel_admin_required
@require_http_methods(["GET", "POST"])
def mailbox_create(request: HttpRequest, domain: str) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    owner_ids = is_superadmin(request.user)
    form = MailboxCreateForm(request.POST or None, domain=the_domain, owner_ids=owner_ids)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mailbox, generated = services.mailbox_create(
                actor=actor(request),
                address=f"{data['local_part']}@{the_domain.name}",
                password=form.chosen_password(),
                name=data["name"],
                quota=data["quota"] if data["quota"] else None,
                storage_format=data["storage_format"],
                uid=data.get("uid"),
                gid=data.get("gid"),
                alias_copy=data["alias_copy"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, CREATE_FIELDS)
        else:
            return _created(request, the_domain, mailbox, generated)
    context = {"domain": the_domain, "form": form, "tab": "mailboxes"}
    return render_page(request, "mailboxes/mailbox_create.html", context, partial="form")


def _created(
    request: HttpRequest, domain: Domain, mailbox: Mailbox, generated: str | None
) -> HttpResponse:
    flash(request, _("Mailbox %(address)s created.") % {"address": _display(mailbox)})
    if generated is None and not wants_partial(request):
        return redirect_after_post(request, _list_url(domain))
    # The generated password is in this response only: it is never stored in clear.
    context = {"domain": domain, "mailbox": mailbox, "password": generated, "tab": "mailboxes"}
    return render_page(
        request, "mailboxes/mailbox_created.html", context, partial="card", event=CHANGED
    )


def _display(mailbox: Mailbox) -> str:
    return f"{mailbox.local_part}@{mailbox.domain.display_name}"


def _row(request: HttpRequest, domain: Domain, mailbox: Mailbox) -> HttpResponse:
    return render_fragment(
        request, "mailboxes/_mailbox_row.html", {"domain": domain, "mailbox": mailbox}
    )


@panel_admin_required
@require_GET
def mailbox_row(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    """One table row (htmx: "cancel" of an inline form); without htmx, the list."""
    the_domain = domain_from_url(request, domain)
    mailbox = selectors.mailbox_in_domain(user=request.user, domain=the_domain, pk=pk)
    if not wants_partial(request):
        return redirect(_list_url(the_domain))
    return _row(request, the_domain, mailbox)


@panel_admin_required
@require_http_methods(["GET", "POST"])
def mailbox_edit(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    mailbox = selectors.mailbox_in_domain(user=request.user, domain=the_domain, pk=pk)
    owner_ids = is_superadmin(request.user)
    initial = {"name": mailbox.name, "quota": mailbox.quota, "uid": mailbox.uid, "gid": mailbox.gid}
    form = MailboxEditForm(
        request.POST or None, initial=initial, domain=the_domain, owner_ids=owner_ids
    )
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = _apply_edit(request, mailbox, form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            flash(request, _("Mailbox %(address)s saved.") % {"address": _display(mailbox)})
            if wants_partial(request):
                return _row(request, the_domain, mailbox)
            return redirect_after_post(request, _list_url(the_domain))
    context = {"domain": the_domain, "mailbox": mailbox, "form": form, "tab": "mailboxes"}
    return render_page(request, "mailboxes/mailbox_edit.html", context, partial="row")


def _apply_edit(request: HttpRequest, mailbox: Mailbox, form: MailboxEditForm) -> Mailbox:
    data, changed = form.cleaned_data, set(form.changed_data)
    changes: dict[str, Any] = {}
    if "name" in changed:
        changes["name"] = data["name"]
    if "quota" in changed:
        changes["quota"] = data["quota"]
    for field in ("uid", "gid"):
        if field in changed:
            if data[field] is None:
                changes[f"clear_{field}"] = True
            else:
                changes[field] = data[field]
    if not changes:
        return mailbox
    return services.mailbox_update(actor=actor(request), mailbox=mailbox, **changes)


@panel_admin_required
@require_http_methods(["GET", "POST"])
def mailbox_password(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    """Reset a mailbox password: generated (shown once) or typed."""
    the_domain = domain_from_url(request, domain)
    mailbox = selectors.mailbox_in_domain(user=request.user, domain=the_domain, pk=pk)
    form = PasswordResetForm(request.POST or None)
    context: dict[str, Any] = {"domain": the_domain, "mailbox": mailbox, "tab": "mailboxes"}
    if request.method == "POST" and form.is_valid():
        typed = form.chosen_password()
        new_password = typed if typed is not None else generate_password()
        try:
            services.mailbox_set_password(
                actor=actor(request), mailbox=mailbox, password=new_password
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            flash(request, _("New password set for %(address)s.") % {"address": _display(mailbox)})
            context["password"] = None if typed is not None else new_password
            if typed is not None and not wants_partial(request):
                return redirect_after_post(request, _list_url(the_domain))
            return render_page(
                request, "mailboxes/mailbox_password_done.html", context, partial="row"
            )
    context["form"] = form
    return render_page(request, "mailboxes/mailbox_password.html", context, partial="row")


@panel_admin_required
@require_POST
def mailbox_toggle(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    mailbox = selectors.mailbox_in_domain(user=request.user, domain=the_domain, pk=pk)
    mailbox = services.mailbox_set_active(
        actor=actor(request), mailbox=mailbox, active=not mailbox.active
    )
    if mailbox.active:
        flash(request, _("Mailbox %(address)s enabled.") % {"address": _display(mailbox)})
    else:
        flash(request, _("Mailbox %(address)s disabled.") % {"address": _display(mailbox)})
    if wants_partial(request):
        return _row(request, the_domain, mailbox)
    return redirect_after_post(request, _list_url(the_domain))


@panel_admin_required
@require_http_methods(["GET", "POST"])
def mailbox_delete(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    """GET asks for confirmation (the page without JavaScript); POST deletes."""
    the_domain = domain_from_url(request, domain)
    mailbox = selectors.mailbox_in_domain(user=request.user, domain=the_domain, pk=pk)
    if request.method == "POST":
        label = _display(mailbox)
        try:
            services.mailbox_delete(actor=actor(request), mailbox=mailbox)
        except ValidationError as exc:
            # Deleting it would let an alias loop close (mailboxes/loops.py): nothing changed.
            messages.error(request, " ".join(exc.messages))
            if wants_partial(request):
                # The row stays; only the message comes, out of band.
                return reswap(render_fragment(request, "includes/oob_messages.html"), "none")
            return redirect_after_post(request, _list_url(the_domain))
        flash(
            request,
            _("Mailbox %(address)s deleted; its mail stays on disk for the operator.")
            % {"address": label},
        )
        if wants_partial(request):
            # Nothing in place of the row, and the message out of band.
            return render_fragment(request, "includes/oob_messages.html")
        return redirect_after_post(request, _list_url(the_domain))
    context = {
        "domain": the_domain,
        "tab": "mailboxes",
        "object_label": _display(mailbox),
        "question": _("Delete the mailbox %(address)s?") % {"address": _display(mailbox)},
        "detail": _("Its mail stays on disk until the operator removes it."),
        "cancel_url": _list_url(the_domain),
    }
    return render_page(request, "mailboxes/confirm_delete.html", context)
