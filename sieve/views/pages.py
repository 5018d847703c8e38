"""The filter and vacation pages, for whichever Editor the URL's view made (owner or admin).

Every write goes through sieve.services (checked, audited, the script published); reads
through sieve.selectors. Each page works without JavaScript; htmx swaps the form or the list
of rules in place and follows a successful save with a full page load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from mailadmin.rendering import add_service_errors, redirect_after_post, render_page, wants_partial
from sieve import services
from sieve.forms import FilterRuleForm, MoveForm, SpamForm, VacationForm
from sieve.models import DEFAULT_DAYS, FilterRule
from sieve.selectors import (
    answerable_addresses,
    filter_rule_get,
    filter_rules_of,
    spam_to_junk_of,
    vacation_of,
)
from sieve.views.editor import Editor


def _context(editor: Editor, page: str, **extra: Any) -> dict[str, Any]:
    """`page`: "vacation" or "filters", the tab the page is under."""
    context = {
        "editor": editor,
        "mailbox": editor.mailbox,
        "urls": editor.urls(),
        "page": page,
        **extra,
    }
    if editor.by_owner:
        context["owner"] = editor.mailbox  # the owner's navigation
    else:
        context["domain"] = editor.domain  # the domain's tabs
        context["tab"] = "mailboxes"
    return context


# --- the vacation reply -------------------------------------------------------------------------


def vacation(request: HttpRequest, editor: Editor) -> HttpResponse:
    mailbox = editor.mailbox
    answerable = answerable_addresses(mailbox)
    current = vacation_of(mailbox)
    if current is None:
        initial: dict[str, Any] = {"days": DEFAULT_DAYS, "addresses": answerable}
    else:
        chosen = [a for a in current.addresses if a in answerable]
        initial = {
            "enabled": current.enabled,
            "start": current.start,
            "end": current.end,
            "subject": current.subject,
            "body": current.body,
            "days": current.days,
            "addresses": chosen or answerable,
        }
    form = VacationForm(
        request.POST if request.method == "POST" else None, initial=initial, answerable=answerable
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_vacation(editor, form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, saved)
            return redirect_after_post(request, editor.url("vacation"))
    context = _context(editor, "vacation", form=form, vacation=current)
    return render_page(request, "sieve/vacation.html", context, partial="form")


def _save_vacation(editor: Editor, form: VacationForm) -> str:
    """Write the form's reply; the message that says what happened."""
    if form.switches_off_only():
        services.vacation_off(**editor.writes())
        return _("The vacation reply is off.")
    data = form.cleaned_data
    services.vacation_set(
        **editor.writes(),
        subject=data["subject"],
        body=data["body"],
        days=data["days"],
        start=data["start"],
        end=data["end"],
        addresses=form.chosen_addresses(),
        enabled=data["enabled"],
    )
    if data["enabled"]:
        return _("The vacation reply is on.")
    return _("The vacation reply is saved and off.")


# --- the filters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    rule: FilterRule
    number: int
    first: bool
    last: bool
    edit_url: str
    delete_url: str
    move_url: str


def _rows(editor: Editor) -> list[_Row]:
    rules = filter_rules_of(editor.mailbox)
    return [
        _Row(
            rule=rule,
            number=index + 1,
            first=index == 0,
            last=index == len(rules) - 1,
            edit_url=editor.url("rule_edit", rule.pk),
            delete_url=editor.url("rule_delete", rule.pk),
            move_url=editor.url("rule_move", rule.pk),
        )
        for index, rule in enumerate(rules)
    ]


def _filters_page(request: HttpRequest, editor: Editor, spam_form: SpamForm) -> HttpResponse:
    context = _context(editor, "filters", rows=_rows(editor), spam_form=spam_form)
    return render_page(request, "sieve/filters.html", context, partial="rules")


def filters(request: HttpRequest, editor: Editor) -> HttpResponse:
    spam_form = SpamForm(initial={"spam_to_junk": spam_to_junk_of(editor.mailbox)})
    return _filters_page(request, editor, spam_form)


def _after_list_change(request: HttpRequest, editor: Editor) -> HttpResponse:
    """htmx: the list of rules again, with the message out of band; else back to the page."""
    if wants_partial(request):
        return filters(request, editor)
    return redirect_after_post(request, editor.url("filters"))


def spam(request: HttpRequest, editor: Editor) -> HttpResponse:
    form = SpamForm(request.POST)
    form.is_valid()  # a lone checkbox: absent is False, never an error
    enabled = services.spam_to_junk_set(
        **editor.writes(), enabled=bool(form.cleaned_data.get("spam_to_junk"))
    )
    if enabled:
        messages.success(request, _("Spam-flagged mail goes to Junk."))
    else:
        messages.success(request, _("Spam-flagged mail is filtered like any other."))
    return redirect_after_post(request, editor.url("filters"))


def rule_form(request: HttpRequest, editor: Editor, pk: int | None = None) -> HttpResponse:
    """A new rule (pk None), or one of the mailbox's rules changed."""
    rule = None if pk is None else filter_rule_get(mailbox=editor.mailbox, pk=pk)
    initial = {}
    if rule is not None:
        initial = {name: getattr(rule, name) for name in FilterRuleForm.base_fields}
    form = FilterRuleForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                services.filter_rule_create(**editor.writes(), **form.rule_fields())
            else:
                services.filter_rule_update(**editor.writes(), rule=rule, **form.rule_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if rule is None:
                messages.success(request, _("The filter rule is added."))
            else:
                messages.success(request, _("The filter rule is saved."))
            return redirect_after_post(request, editor.url("filters"))
    action = editor.url("rule_new") if rule is None else editor.url("rule_edit", rule.pk)
    context = _context(editor, "filters", form=form, rule=rule, action=action)
    return render_page(request, "sieve/rule_form.html", context, partial="form")


def rule_delete(request: HttpRequest, editor: Editor, pk: int) -> HttpResponse:
    """GET asks (the page without JavaScript); POST deletes."""
    rule = filter_rule_get(mailbox=editor.mailbox, pk=pk)
    if request.method == "POST":
        services.filter_rule_delete(**editor.writes(), rule=rule)
        messages.success(request, _("The filter rule is deleted."))
        return _after_list_change(request, editor)
    context = _context(editor, "filters", rule=rule, number=rule.position + 1)
    return render_page(request, "sieve/rule_delete.html", context)


def rule_move(request: HttpRequest, editor: Editor, pk: int) -> HttpResponse:
    rule = filter_rule_get(mailbox=editor.mailbox, pk=pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        step = -1 if form.cleaned_data["direction"] == "up" else 1
        try:
            moved = services.filter_rule_move(
                **editor.writes(), rule=rule, position=rule.position + step
            )
        except ValidationError as exc:
            # Already first or last (a stale page): nothing moved.
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("The rule is now number %(n)d.") % {"n": moved.position + 1}
            )
    else:
        messages.error(request, _("Choose to move the rule up or down."))
    return _after_list_change(request, editor)
