"""The bulk bar of the mailbox and alias lists: an action, the ticked rows (or all matching
the list's search), and the confirmation that the second submit carries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mailadmin.search import SEARCH_MAX
from mailboxes import bulk
from mailboxes.forms import QuotaField
from mailboxes.models import StorageFormat

ACTION_LABELS = {
    bulk.ENABLE: _("Enable"),
    bulk.DISABLE: _("Disable"),
    bulk.SET_QUOTA: _("Set quota"),
    bulk.DELETE: _("Delete"),
}


class BulkForm(forms.Form):
    action = forms.ChoiceField(label=_("With the selected rows"))
    all_matching = forms.BooleanField(
        label=_("All rows matching the search, not only the ticked ones"), required=False
    )
    q = forms.CharField(required=False, max_length=SEARCH_MAX, widget=forms.HiddenInput)
    full = forms.BooleanField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(
        required=False,
        choices=[("", ""), ("active", ""), ("disabled", "")],
        widget=forms.HiddenInput,
    )
    format = forms.ChoiceField(
        required=False, choices=[("", ""), *StorageFormat.choices], widget=forms.HiddenInput
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    actions: tuple[str, ...] = bulk.ALIAS_ACTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose…")),
            *((action, ACTION_LABELS[action]) for action in self.actions),
        ]

    def selection(self) -> bulk.Selection:
        """The ticked rows' primary keys (anything that is not one is ignored)."""
        pks = tuple(int(v) for v in self.data.getlist("pk") if v.isdigit())  # type: ignore[attr-defined]
        return bulk.Selection(
            pks=pks,
            all_matching=self.cleaned_data["all_matching"],
            search=self.cleaned_data["q"].strip(),
            nearly_full=self.cleaned_data["full"],
            active={"active": True, "disabled": False}.get(self.cleaned_data["status"]),
            storage_format=self.cleaned_data["format"],
        )


class MailboxBulkForm(BulkForm):
    quota = QuotaField(label=_("New quota"), required=False, help_text=_("e.g. 2G; 0: no limit"))

    actions = bulk.MAILBOX_ACTIONS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == bulk.SET_QUOTA and not str(self.data.get("quota", "")).strip():
            self.add_error("quota", _("Enter the new quota (0 or unlimited: no limit)."))
        if data.get("action") != bulk.SET_QUOTA:
            data["quota"] = None
        return data
