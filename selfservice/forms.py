"""Forms of the self-service pages: they validate input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from domains.models import OwnerForwarding
from selfservice.models import MAX_LENGTH, MIN_LENGTH_FLOOR


class OwnerLoginForm(forms.Form):
    address = forms.CharField(
        label=_("Email address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label=_("Current password"),
        max_length=MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        max_length=MAX_LENGTH + 1,  # one more, so that the policy names the problem
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        max_length=MAX_LENGTH + 1,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        new, again = data.get("new_password"), data.get("new_password_again")
        if new is not None and again is not None and new != again:
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


class ForwardingForm(forms.Form):
    destinations = forms.CharField(
        label=_("Forward to"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_("One address a line (or separated by commas). Empty: no forwarding."),
    )
    keep_copy = forms.BooleanField(
        label=_("Keep a copy in this mailbox"), required=False, initial=True
    )

    def clean_destinations(self) -> list[str]:
        text = self.cleaned_data.get("destinations") or ""
        return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


class OwnerAccessForm(forms.Form):
    panel_login_enabled = forms.BooleanField(
        label=_("The owner may log in to the self-service pages"), required=False
    )
    must_change_password = forms.BooleanField(
        label=_("The owner must change the password at the next login"), required=False
    )


class DomainForwardingForm(forms.Form):
    owner_forwarding = forms.ChoiceField(
        label=_("Forwarding by owners"),
        choices=[
            (OwnerForwarding.OFF.value, _("Not allowed")),
            (OwnerForwarding.LOCAL.value, _("Only to domains of this server")),
            (OwnerForwarding.ANY.value, _("To any address")),
        ],
    )
    max_forwards = forms.IntegerField(
        label=_("Max forwarding addresses per mailbox"),
        min_value=0,
        max_value=1000,
        help_text=_("0: no limit"),
    )


class PasswordPolicyForm(forms.Form):
    min_length = forms.IntegerField(
        label=_("Minimum length"), min_value=MIN_LENGTH_FLOOR, max_value=128
    )
    forbid_address = forms.BooleanField(
        label=_("Refuse the address and its local part"), required=False
    )
    forbid_common = forms.BooleanField(
        label=_("Refuse common passwords (a list of 20,000)"), required=False
    )
