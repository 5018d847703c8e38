"""The server-wide defaults page (/server/), for superadmins: the owner uid/gid of mailboxes
that name none and the postmaster address, written through the same service as
`manage.py server set`."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from domains import services
from domains.models import ServerSettings
from mailadmin.access import superadmin_required
from mailadmin.ids import MAX_ID
from mailadmin.rendering import actor, add_service_errors, redirect_after_post, render_page


class ServerSettingsForm(forms.Form):
    """Only types and lengths; the service checks the ranges and the address (one rule for the
    page and the CLI)."""

    default_uid = forms.IntegerField(
        label=gettext_lazy("Default uid"),
        help_text=gettext_lazy(
            "Owner of the mail delivered to every mailbox whose mailbox and domain name no uid."
        ),
    )
    default_gid = forms.IntegerField(
        label=gettext_lazy("Default gid"),
        help_text=gettext_lazy(
            "Group of the mail delivered to every mailbox whose mailbox and domain name no gid."
        ),
    )
    postmaster_address = forms.CharField(
        label=gettext_lazy("Postmaster address"),
        max_length=254,
        required=False,
        help_text=gettext_lazy(
            "Where postmaster@ and abuse@ of every domain go when the domain has no mailbox, "
            "alias or catch-all for them: an address, or postmaster@localhost for the mail "
            "host's /etc/aliases. Empty: such mail is refused."
        ),
    )


def _initial(row: ServerSettings) -> dict[str, object]:
    return {
        "default_uid": row.default_uid,
        "default_gid": row.default_gid,
        "postmaster_address": row.postmaster_address,
    }


@superadmin_required
@require_http_methods(["GET", "POST"])
def server_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # The service reads and locks the row itself; the form needs no initial values.
        form = ServerSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.server_settings_update(actor=actor(request), **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The server settings are saved."))
                return redirect_after_post(request, reverse("domains:server"))
    else:
        form = ServerSettingsForm(initial=_initial(ServerSettings.load()))
    context = {"form": form, "min_id": settings.MAILADMIN_MIN_UID, "max_id": MAX_ID}
    return render_page(request, "domains/server_settings.html", context, partial="form")
