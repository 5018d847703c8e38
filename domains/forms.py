"""Forms of the domain pages: they validate and normalise; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from domains.models import Delivery
from domains.selectors import DOMAIN_ORDERINGS
from domains.services import check_delivery
from mailadmin.sizes import parse_typed_size

_BINARY_UNITS = (("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024))


def exact_size(size: int | None) -> str:
    """A byte count in the largest binary unit that divides it exactly, so that saving a form
    unchanged never rounds a quota: 2147483648 -> "2G", 1000 -> "1000B" (a number without a
    unit is refused: mailadmin.sizes.parse_typed_size)."""
    if not size:
        return "0"
    for unit, factor in _BINARY_UNITS:
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


class SizeField(forms.CharField):
    """A quota typed as people write it: 500M, 2G, 1.5GiB; 0 or empty means no limit."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        # The length is checked on the text in to_python; the cleaned value is an int.
        kwargs.setdefault("widget", forms.TextInput(attrs={"maxlength": "32"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return exact_size(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int:  # type: ignore[override]
        text = str(value or "")
        if len(text) > 32:
            raise ValidationError(_("That size is too long."), code="max_length")
        return parse_typed_size(text)


class DomainSettingsForm(forms.Form):
    """What a superadmin sets on a domain; `name` only when creating."""

    name = forms.CharField(
        label=_("Domain name"),
        max_length=253,
        help_text=_("Internationalised names may be typed in Unicode, e.g. bücher.example."),
    )
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    delivery = forms.ChoiceField(label=_("Delivery"), choices=Delivery.choices)
    transport = forms.CharField(
        label=_("Transport"),
        max_length=255,
        required=False,
        help_text=_("Postfix next hop, e.g. smtp:[mx.example.net]:25. Needed for relayed domains."),
    )
    relay_accept_any = forms.BooleanField(
        label=_("Accept every recipient (relay and backup MX)"),
        required=False,
        help_text=_(
            "Off: only the listed relay recipients are accepted, mail for other addresses is "
            "refused at once. On: mail for any address is accepted and the next hop bounces "
            "the unknown ones later, often to forged senders (backscatter)."
        ),
    )
    max_mailboxes = forms.IntegerField(
        label=_("Max mailboxes"), min_value=0, initial=0, help_text=_("0: no limit")
    )
    max_aliases = forms.IntegerField(
        label=_("Max aliases"), min_value=0, initial=0, help_text=_("0: no limit")
    )
    max_mailbox_quota = SizeField(
        label=_("Max quota per mailbox"), initial="0", help_text=_("e.g. 2G; 0: no limit")
    )
    total_quota = SizeField(
        label=_("Total quota"), initial="0", help_text=_("for all mailboxes; 0: no limit")
    )
    default_mailbox_quota = SizeField(
        label=_("Default quota of a new mailbox"),
        initial="0",
        help_text=_("when none is typed; 0: the maximum per mailbox"),
    )
    uid = forms.IntegerField(
        label=_("Default uid"),
        required=False,
        min_value=1,
        help_text=_("Owner of delivered mail; empty: the server default."),
    )
    gid = forms.IntegerField(
        label=_("Default gid"),
        required=False,
        min_value=1,
        help_text=_("Group of delivered mail; empty: the server default."),
    )

    def __init__(self, *args: Any, creating: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["name"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "delivery" in data:  # the service's rule, shown with the form's other errors
            try:
                check_delivery(data["delivery"], data.get("transport", ""))
            except ValidationError as exc:
                for field, errors in exc.error_dict.items():
                    for error in errors:
                        self.add_error(field, error)
        return data


class DomainDescriptionForm(forms.Form):
    """What a domain admin may change on their own domain."""

    description = forms.CharField(label=_("Description"), max_length=255, required=False)


class DomainSearchForm(forms.Form):
    q = forms.CharField(label=_("Search domains"), required=False, max_length=253)
    sort = forms.ChoiceField(
        label=_("Sort"), required=False, choices=[(o, o) for o in DOMAIN_ORDERINGS]
    )

    def search(self) -> tuple[str, str]:
        if not self.is_valid():
            return "", "name"
        return self.cleaned_data.get("q", ""), self.cleaned_data.get("sort") or "name"


def settings_initial(domain: Any) -> dict[str, Any]:
    return {
        field: getattr(domain, field)
        for field in (
            "description",
            "delivery",
            "transport",
            "relay_accept_any",
            "max_mailboxes",
            "max_aliases",
            "max_mailbox_quota",
            "total_quota",
            "default_mailbox_quota",
            "uid",
            "gid",
        )
    }


class RelayRecipientForm(forms.Form):
    """One local part of a relay domain; domains.relay normalises and checks it."""

    local_part = forms.CharField(
        label=_("Local part"),
        max_length=64,
        help_text=_("The part before the @, e.g. info for info@example.com."),
    )
