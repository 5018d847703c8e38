"""Bulk actions on a domain's mailboxes and aliases (mailboxes/bulk.py): the bulk bar posts
here, the first answer is a page stating exactly what will change, its button posts the same
selection again with `confirmed`, and the batch runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Kind:
    """What differs between the mailbox and the alias batches."""

    name: str  # "mailbox" or "alias", for changed_message and the confirmation's words
    form: type[BulkForm]
    list_view: str
    select: Callable[..., Sequence[Any]]
    run: Callable[..., int]


MAILBOXES = _Kind(
    "mailbox",
    MailboxBulkForm,
    "mailboxes:mailbox_list",
    bulk.selected_mailboxes,
    lambda actor, rows, action, quota: bulk.mailboxes_bulk(
        actor=actor, mailboxes=rows, action=action, quota=quota
    ),
)
ALIASES = _Kind(
    "alias",
    BulkForm,
    "mailboxes:alias_list",
    bulk.selected_aliases,
    lambda actor, rows, action, quota: bulk.aliases_bulk(actor=actor, aliases=rows, action=action),
)


@panel_admin_required
@require_POST
def mailbox_bulk(request: HttpRequest, domain: str) -> HttpResponse:
    return _bulk(request, domain, MAILBOXES)


@panel_admin_required
@require_POST
def alias_bulk(request: HttpRequest, domain: str) -> HttpResponse:
    return _bulk(request, domain, ALIASES)


def _bulk(request: HttpRequest, domain: str, kind: _Kind) -> HttpResponse:
    the_domain = domain_from_url(request, domain)
    form = kind.form(request.POST)
    back = _list_url(the_domain, kind.list_view, request)
    if not form.is_valid():
        return _refused(request, form, back)
    try:
        rows = kind.select(user=request.user, domain=the_domain, selection=form.selection())
    except ValidationError as exc:
        return _refused(request, exc, back)
    action = form.cleaned_data["action"]
    quota = form.cleaned_data.get("quota")
    if not form.cleaned_data["confirmed"]:
        lines = [
            _row(
                row.pk,
                row.local_part,
                row.active,
                action,
                quota=getattr(row, "quota", None),
                new_quota=quota,
            )
            for row in rows
        ]
        return _confirm(request, the_domain, form, kind.name, lines, back, quota=quota)
    try:
        count = kind.run(actor(request), rows, action, quota)
    except ValidationError as exc:
        return _refused(request, exc, back)
    flash(request, bulk.changed_message(kind.name, action, count))
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
