from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.labels import OBJECT_TYPES

OBJECT_TYPE_CHOICES = (("", _("Any")), *OBJECT_TYPES.items())


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Who"), required=False, max_length=254)
    domain = forms.ChoiceField(label=_("Domain"), required=False)
    object_type = forms.ChoiceField(
        label=_("Object type"), required=False, choices=OBJECT_TYPE_CHOICES
    )
    day = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, domains: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["domain"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Any")), *domains]
