"""Forms of the filter and vacation pages (owners' and admins' alike).

They parse what a browser sends (dates, numbers, ticks) and ask sieve/rules.py, the one home
of every message, about the rest, so that a form shows the errors of all its fields at once,
the unparsable ones included. The services check again when they write.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sieve import rules
from sieve.models import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, Action, Condition, Match


def _add_rule_errors(form: forms.Form, exc: ValidationError) -> None:
    """The rules' errors on their fields, except where the field's own parsing failed (its
    message says more), and the unkeyed ones at the top."""
    for key, errors in exc.error_dict.items():
        field = key if key in form.fields else None
        if field is not None and field in form.errors:
            continue
        for error in errors:
            form.add_error(field, error)


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        # The browser's date picker sends ISO dates whatever the page's language.
        super().__init__(format="%Y-%m-%d")


def _off_without_text(data: dict[str, Any]) -> bool:
    text = (data.get("subject") or "") + (data.get("body") or "")
    return not data.get("enabled") and not text.strip()


class VacationForm(forms.Form):
    enabled = forms.BooleanField(label=_("Send the vacation reply"), required=False)
    start = forms.DateField(
        label=_("First day"),
        required=False,
        widget=_DateInput(),
        input_formats=["%Y-%m-%d"],
        help_text=_("Empty: from now on."),
    )
    end = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=_DateInput(),
        input_formats=["%Y-%m-%d"],
        help_text=_("Empty: until you switch it off."),
    )
    # No max_length here: the rules' messages say the limits (DATA_UPLOAD_MAX_MEMORY_SIZE
    # bounds what a request may hold).
    subject = forms.CharField(label=_("Subject"), required=False)
    body = forms.CharField(
        label=_("Message"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    days = forms.IntegerField(
        label=_("Days between two replies to the same sender"),
        initial=DEFAULT_DAYS,
        widget=forms.NumberInput(attrs={"min": MIN_DAYS, "max": MAX_DAYS}),
    )
    addresses = forms.MultipleChoiceField(
        label=_("Answer mail sent to"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("With every address ticked, the mailbox's later addresses are answered too."),
    )

    def __init__(self, *args: Any, answerable: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answerable = answerable
        self.fields["days"].help_text = gettext("From %(low)d to %(high)d.") % {
            "low": MIN_DAYS,
            "high": MAX_DAYS,
        }
        field = self.fields["addresses"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(address, address) for address in answerable]

    def switches_off_only(self) -> bool:
        """Off with no text: switch the reply off and keep the text it had."""
        return _off_without_text(self.cleaned_data)

    def chosen_addresses(self) -> list[str]:
        """For the service: every address ticked is "all of them" (an empty list), which takes
        in the addresses the mailbox gets later."""
        chosen = list(self.cleaned_data["addresses"])
        return [] if set(chosen) >= set(self.answerable) else chosen

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if _off_without_text(data):
            return data
        enabled = bool(data.get("enabled"))
        if "addresses" in data and not data["addresses"] and self.answerable:
            self.add_error("addresses", _("Tick at least one address the reply answers for."))
        today: date = timezone.localdate()
        try:
            rules.clean_vacation(
                subject=data.get("subject", ""),
                body=data.get("body", ""),
                # Unparsable days have the field's own error already.
                days=days if isinstance(days := data.get("days"), int) else DEFAULT_DAYS,
                start=data.get("start"),
                end=data.get("end"),
                addresses=data.get("addresses", []),
                answerable=self.answerable,
                today=today,
                enabled=enabled,
            )
        except ValidationError as exc:
            _add_rule_errors(self, exc)
        return data


class FilterRuleForm(forms.Form):
    condition = forms.ChoiceField(label=_("When"), choices=Condition.choices)
    header_name = forms.CharField(
        label=_("Header name"),
        required=False,
        help_text=_("Only for “header”, for example List-Id."),
    )
    match = forms.ChoiceField(label=_("Match"), choices=Match.choices)
    value = forms.CharField(label=_("Text"), required=False)
    action = forms.ChoiceField(label=_("Then"), choices=Action.choices)
    folder = forms.CharField(
        label=_("Folder"),
        required=False,
        help_text=_("Only for “file into a folder”; made if it does not exist."),
    )
    forward_to = forms.CharField(
        label=_("Forward to"),
        required=False,
        help_text=_("Only for “forward”."),
    )
    keep_copy = forms.BooleanField(label=_("Keep a copy when forwarding"), required=False)
    enabled = forms.BooleanField(label=_("The rule is on"), required=False, initial=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            fields = rules.clean_rule(
                condition=data.get("condition", ""),
                match=data.get("match", ""),
                value=data.get("value", ""),
                action=data.get("action", ""),
                header_name=data.get("header_name", ""),
                folder=data.get("folder", ""),
                forward_to=data.get("forward_to", ""),
                keep_copy=bool(data.get("keep_copy")),
            )
        except ValidationError as exc:
            _add_rule_errors(self, exc)
            return data
        data.update(asdict(fields))
        return data

    def rule_fields(self) -> dict[str, Any]:
        """The service's arguments."""
        return {name: self.cleaned_data[name] for name in self.fields}


class SpamForm(forms.Form):
    spam_to_junk = forms.BooleanField(
        label=_("Spam-flagged mail goes to the Junk folder"), required=False
    )


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])
