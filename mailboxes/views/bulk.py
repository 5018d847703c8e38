"""Bulk actions on a domain's mailboxes and aliases (mailboxes/bulk.py): the bulk bar posts
here, the first answer is a page stating exactly what will change, its button posts the same
selection again with `confirmed`, and the batch runs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from domains.models import Domain
from mailadmin.access import panel_admin_required
from mailadmin.rendering import actor, redirect_after_post, render_page
from mailboxes import bulk
from mailboxes.bulk_forms import ACTION_LABELS, BulkForm, MailboxBulkForm
from mailboxes.views.common import domain_from_url, flash


@panel_admin_required
@require_POST
def mailbox_bulk(request: HttpRequest, domain: str) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    form = MailboxBulkForm(request.POST)
    back = _list_url(the_domain, "mailboxes:mailbox_list", request)
    if not form.is_valid():
        return _refused(request, form, back)
    try:
        mailboxes = bulk.selected_mailboxes(
            user=request.user, domain=the_domain, selection=form.selection()
        )
    except ValidationError as exc:
        return _refused(request, exc, back)
    action, quota = form.cleaned_data["action"], form.cleaned_data["quota"]
    if not form.cleaned_data["confirmed"]:
        rows = [
            _row(m.pk, m.local_part, m.active, action, quota=m.quota, new_quota=quota)
            for m in mailboxes
        ]
        return _confirm(request, the_domain, form, "mailbox", rows, back, quota=quota)
    try:
        count = bulk.mailboxes_bulk(
            actor=actor(request), mailboxes=mailboxes, action=action, quota=quota
        )
    except ValidationError as exc:
        return _refused(request, exc, back)
    flash(request, bulk.changed_message("mailbox", action, count))
    return redirect_after_post(request, back)


@panel_admin_required
@require_POST
def alias_bulk(request: HttpRequest, domain: str) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    form = BulkForm(request.POST)
    back = _list_url(the_domain, "mailboxes:alias_list", request)
    if not form.is_valid():
        return _refused(request, form, back)
    try:
        aliases = bulk.selected_aliases(
            user=request.user, domain=the_domain, selection=form.selection()
        )
    except ValidationError as exc:
        return _refused(request, exc, back)
    action = form.cleaned_data["action"]
    if not form.cleaned_data["confirmed"]:
        rows = [_row(a.pk, a.local_part, a.active, action) for a in aliases]
        return _confirm(request, the_domain, form, "alias", rows, back)
    try:
        count = bulk.aliases_bulk(actor=actor(request), aliases=aliases, action=action)
    except ValidationError as exc:
        return _refused(request, exc, back)
    flash(request, bulk.changed_message("alias", action, count))
    return redirect_after_post(request, back)


def _list_url(domain: Domain, name: str, request: HttpRequest) -> str:
    """The list again, with the search the batch came from."""
    url = reverse(name, args=[domain.name])
    kept = {
        key: request.POST[key] for key in ("q", "full", "status", "format") if request.POST.get(key)
    }
    return f"{url}?{urlencode(kept)}" if kept else url


def _refused(request: HttpRequest, problem: BulkForm | ValidationError, back: str) -> HttpResponse:
    if isinstance(problem, ValidationError):
        texts = problem.messages
    else:
        texts = [str(error) for errors in problem.errors.values() for error in errors]
    messages.error(request, " ".join(texts))
    return redirect_after_post(request, back)


def _confirm(
    request: HttpRequest,
    domain: Domain,
    form: BulkForm,
    kind: str,
    rows: list[dict[str, Any]],
    back: str,
    *,
    quota: int | None = None,
) -> HttpResponse:
    """The page that says what the batch will do to each row, and posts it again confirmed."""
    action = form.cleaned_data["action"]
    context: dict[str, Any] = {
        "domain": domain,
        "tab": "mailboxes" if kind == "mailbox" else "aliases",
        "kind": kind,
        "action": action,
        "action_label": ACTION_LABELS[action],
        "rows": rows,
        "quota": quota,
        "changing": sum(1 for row in rows if row["changes"]),
        "post_url": request.path,
        "raw_quota": request.POST.get("quota", ""),
        "q": form.cleaned_data["q"],
        "full": form.cleaned_data["full"],
        "status": form.cleaned_data["status"],
        "storage_format": form.cleaned_data["format"],
        "cancel_url": back,
    }
    return render_page(request, "mailboxes/bulk_confirm.html", context)


def _row(
    pk: int,
    local_part: str,
    active: bool,
    action: str,
    *,
    quota: int | None = None,
    new_quota: int | None = None,
) -> dict[str, Any]:
    """One line of the confirmation: the row, and whether the batch changes it (enabling
    an enabled mailbox, or giving it the quota it has, changes nothing and is not audited)."""
    if action == bulk.SET_QUOTA:
        changes = quota != new_quota
    elif action in (bulk.ENABLE, bulk.DISABLE):
        changes = active != (action == bulk.ENABLE)
    else:
        changes = True
    return {
        "pk": pk,
        "local_part": local_part,
        "active": active,
        "quota": quota,
        "changes": changes,
    }
