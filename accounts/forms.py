"""Forms of the admin pages: they validate and normalise; the services decide and write."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[\s,;]+")


def split_names(text: str) -> list[str]:
    return [name for name in _SEPARATORS.split(text or "") if name]


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_username(self) -> str:
        # NFKC like the stored names (and Django's own login form): carol in fullwidth letters
        # is carol.
        return str(get_user_model().normalize_username(self.cleaned_data["username"]))


class DomainNamesField(forms.CharField):
    """Domain names separated by spaces or commas; the services check that they exist."""

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        return split_names(str(value or ""))

    def validate(self, value: object) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class AdminCreateForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    superadmin = forms.BooleanField(
        label=_("Superadmin"),
        required=False,
        help_text=_("A superadmin manages every domain, the admins and the mail-stack config."),
    )
    domains = DomainNamesField(
        label=_("Domains"),
        required=False,
        help_text=_("Names of the domains this admin manages, separated by spaces or commas."),
    )
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to generate a strong password that is shown once."),
    )

    def clean_username(self) -> str:
        # As it will be stored; whether the name is free is services.admin_create's rule.
        return str(get_user_model().normalize_username(self.cleaned_data["username"].strip()))


class AdminRolesForm(forms.Form):
    superadmin = forms.BooleanField(label=_("Superadmin"), required=False)
    active = forms.BooleanField(
        label=_("Active"), required=False, help_text=_("An inactive admin cannot log in.")
    )


class GrantForm(forms.Form):
    domains = DomainNamesField(label=_("Domains to add"), required=True)


class RevokeForm(forms.Form):
    domain = forms.CharField(label=_("Domain"), max_length=253)


class AdminSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=150)
