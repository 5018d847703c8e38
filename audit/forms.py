from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from audit.labels import OBJECT_TYPES
from mailadmin.names import normalize_domain

OBJECT_TYPE_CHOICES = (("", _("Any")), *OBJECT_TYPES.items())


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Who"), required=False, max_length=254)
    # A name typed, not a <select> of every domain: at thousands of domains the list was
    # useless and read every domain's name on each view.
    domain = forms.CharField(
        label=_("Domain"),
        required=False,
        max_length=253,
        widget=forms.TextInput(attrs={"placeholder": "example.com", "autocomplete": "off"}),
    )
    object_type = forms.ChoiceField(
        label=_("Object type"), required=False, choices=OBJECT_TYPE_CHOICES
    )
    day = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, may_see: Callable[[str], bool], **kwargs: Any) -> None:
        """`may_see(name)`: the entries of domain `name` are the admin's to filter by."""
        super().__init__(*args, **kwargs)
        self.may_see = may_see

    def clean_domain(self) -> str:
        typed = self.cleaned_data["domain"].strip()
        if not typed:
            return ""
        try:
            name = normalize_domain(typed)
        except ValidationError:
            raise ValidationError(
                _("%(name)s is not a domain name.") % {"name": typed}, code="invalid"
            ) from None
        if not self.may_see(name):
            raise ValidationError(
                _("You do not administer %(name)s.") % {"name": typed}, code="not_yours"
            )
        return name
