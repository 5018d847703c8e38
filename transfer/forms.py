from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


def max_upload_bytes() -> int:
    return settings.MAILADMIN_IMPORT_MAX_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, with a header row; see the format below."),
    )

    def clean_file(self) -> forms.Field:
        upload = self.cleaned_data["file"]
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": max_upload_bytes() // 2**20}
            )
        return upload
