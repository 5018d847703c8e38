"""Forms of the per-domain pages: they validate and normalise what people type; the services
decide and write. A service's ValidationError is shown on the form by
`mailadmin.rendering.add_service_errors`."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mailadmin.ids import MAX_ID
from mailadmin.names import normalize_domain, normalize_local_part, split_address
from mailadmin.sizes import format_size, parse_typed_size
from mailboxes.models import StorageFormat

KEEP_COPY = "keep"
FORWARD_ONLY = "forward"
GENERATE = "generate"
TYPE = "type"
PASSWORD_CHOICES = [
    (GENERATE, _("Generate a strong password (shown once)")),
    (TYPE, _("Type a password")),
]


class QuotaField(forms.Field):
    """A size typed in human units ("2G", "500M", "unlimited"); cleans to bytes. Its help
    text is the domain's (quota_help)."""

    widget = forms.TextInput(attrs={"maxlength": "40", "inputmode": "text"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            return format_size(value) if value else ""
        return value

    def to_python(self, value: Any) -> int:
        return parse_typed_size(str(value or ""))

    def has_changed(self, initial: Any, data: Any) -> bool:
        # The form shows "976.6 KiB" for 1000000 bytes: sent back untouched, it is no change.
        if str(self.prepare_value(initial) or "") == str(data or "").strip():
            return False
        return super().has_changed(initial, data)


def quota_help(domain: Any, *, creating: bool) -> str:
    """What an empty quota or 0 means in `domain` (mailboxes.rules.quota_or_default and
    check_quota decide it; this says it before the admin tries)."""
    example = _("For example 500M or 2G.")
    if creating and domain.default_mailbox_quota:
        default = format_size(domain.default_mailbox_quota)
        if domain.max_mailbox_quota:
            return f"{example} " + _(
                "Empty: the domain's default, %(default)s; at most %(max)s."
            ) % {
                "default": default,
                "max": format_size(domain.max_mailbox_quota),
            }
        return f"{example} " + _("Empty: the domain's default, %(default)s.") % {"default": default}
    if domain.max_mailbox_quota:
        maximum = format_size(domain.max_mailbox_quota)
        if creating:
            return f"{example} " + _("Empty: the domain's maximum, %(max)s.") % {"max": maximum}
        return f"{example} " + _("At most %(max)s.") % {"max": maximum}
    if domain.total_quota:
        return f"{example} " + _("Needed: the domain has a total quota.")
    return f"{example} " + _("Empty or 0: no limit.")


def copy_choice(*, label: Any, keep: Any, forward: Any, help_text: Any) -> forms.TypedChoiceField:
    """The question asked when a mailbox and an alias share an address (mailboxes/services.py):
    True keeps a copy in the mailbox, False does not, None (not answered) is refused there."""
    return forms.TypedChoiceField(
        label=label,
        choices=[(KEEP_COPY, keep), (FORWARD_ONLY, forward)],
        coerce=lambda value: value == KEEP_COPY,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text=help_text,
    )


class OwnerIdField(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class PasswordChoiceMixin(forms.Form):
    password_mode = forms.ChoiceField(
        label=_("Password"),
        choices=PASSWORD_CHOICES,
        initial=GENERATE,
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password_mode") == TYPE and not data.get("password"):
            self.add_error("password", _("Type the password, or let mailadmin generate one."))
        return data

    def chosen_password(self) -> str | None:
        """The typed password, or None when one is to be generated."""
        if self.cleaned_data["password_mode"] == TYPE:
            return str(self.cleaned_data["password"])
        return None


class MailboxCreateForm(PasswordChoiceMixin):
    local_part = forms.CharField(label=_("Address"), max_length=64)
    name = forms.CharField(label=_("Display name"), max_length=255, required=False)
    quota = QuotaField(label=_("Quota"), required=False)
    storage_format = forms.ChoiceField(
        label=_("Storage format"), choices=StorageFormat.choices, initial=StorageFormat.MAILDIR
    )
    uid = OwnerIdField(label=_("uid override"))
    gid = OwnerIdField(label=_("gid override"))
    alias_copy = copy_choice(
        label=_("When the address is an alias's"),
        keep=_("The alias delivers a copy to the mailbox"),
        forward=_("The alias goes on taking all of the mail"),
        help_text=_("An alias at the mailbox's address receives its mail first."),
    )

    field_order = ["local_part", "name", "password_mode", "password", "quota", "storage_format"]

    def __init__(self, *args: Any, domain: Any, owner_ids: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quota"].help_text = quota_help(domain, creating=True)
        if not owner_ids:
            # Who owns delivered mail is the superadmin's decision, as for domains.
            del self.fields["uid"]
            del self.fields["gid"]

    def clean_local_part(self) -> str:
        return normalize_local_part(self.cleaned_data["local_part"])


class MailboxEditForm(forms.Form):
    name = forms.CharField(label=_("Display name"), max_length=255, required=False)
    quota = QuotaField(label=_("Quota"), required=False)
    uid = OwnerIdField(label=_("uid override"), help_text=_("Empty: the domain's or the default."))
    gid = OwnerIdField(label=_("gid override"), help_text=_("Empty: the domain's or the default."))

    def __init__(self, *args: Any, domain: Any, owner_ids: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quota"].help_text = quota_help(domain, creating=False)
        if not owner_ids:
            del self.fields["uid"]
            del self.fields["gid"]


class PasswordResetForm(PasswordChoiceMixin):
    pass


_SEPARATORS = re.compile(r"[\s,;]+")


class DestinationsField(forms.CharField):
    """Destination addresses, one a line (commas also separate); cleans to a list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        items = [item for item in _SEPARATORS.split(str(value or "")) if item]
        cleaned: list[str] = []
        errors: list[ValidationError] = []
        for item in items:
            try:
                local, domain = split_address(item)
            except ValidationError as exc:
                errors.extend(exc.error_list)
                continue
            address = f"{local}@{domain}"
            if address not in cleaned:
                cleaned.append(address)
        if errors:
            raise ValidationError(errors)
        return cleaned


class AliasCreateForm(forms.Form):
    local_part = forms.CharField(
        label=_("Address"),
        max_length=64,
        required=False,
        help_text=_("Leave empty for the catch-all."),
    )
    catchall = forms.BooleanField(
        label=_("Catch-all"),
        required=False,
        help_text=_("Takes mail for every address of the domain that is no mailbox or alias."),
    )
    destinations = DestinationsField(
        label=_("Destinations"), help_text=_("One address a line; may be outside this server.")
    )
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    mailbox_copy = copy_choice(
        label=_("When the address is a mailbox's"),
        keep=_("The mailbox keeps a copy"),
        forward=_("Forward only: the mailbox receives nothing"),
        help_text=_("An alias at a mailbox's address takes all of its mail."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        local = (data.get("local_part") or "").strip()
        if data.get("catchall"):
            if local:
                self.add_error(
                    "local_part", _("A catch-all has no address of its own: leave this empty.")
                )
            data["local_part"] = ""
        elif not local:
            self.add_error("local_part", _("Enter the address, or tick catch-all."))
        else:
            try:
                data["local_part"] = normalize_local_part(local)
            except ValidationError as exc:
                self.add_error("local_part", exc)
        return data


class AliasEditForm(forms.Form):
    destinations = DestinationsField(
        label=_("Destinations"), help_text=_("One address a line; may be outside this server.")
    )


class AliasDomainCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Alias domain"),
        max_length=253,
        help_text=_("Mail to user@alias-domain goes to user@this-domain."),
    )

    def clean_name(self) -> str:
        return normalize_domain(self.cleaned_data["name"])


class AliasDomainGrantForm(forms.Form):
    name = forms.CharField(
        label=_("Allow the domain admins to add"),
        max_length=253,
        help_text=_("Check first that this domain's owner holds the name."),
    )

    def clean_name(self) -> str:
        return normalize_domain(self.cleaned_data["name"])


class TraceForm(forms.Form):
    address = forms.CharField(
        label=_("Address"),
        max_length=320,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "user@example.com"}),
    )

    def clean_address(self) -> str:
        local, domain = split_address(self.cleaned_data["address"])
        return f"{local}@{domain}"
