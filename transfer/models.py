"""An import started in the browser: the uploaded file, its state and its progress.

The job lives in the database, so it survives a restart of the panel or of the worker
(`manage.py transfer_worker`); see docs/import-export.md. The file may hold clear passwords: it
is wiped as soon as the job is finished or cancelled, only the report stays.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("Waiting to be checked")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    CONFIRMED = "confirmed", _("Waiting to be imported")
    WRITING = "writing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ImportJob(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="import_jobs",
        verbose_name=_("started by"),
    )
    filename = models.CharField(_("file name"), max_length=255)
    # The uploader's language: the worker writes the report's messages in it.
    language = models.CharField(_("language"), max_length=10, blank=True)
    data = models.BinaryField(_("file contents"), default=b"")
    state = models.CharField(
        _("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED
    )
    phase = models.CharField(_("phase"), max_length=10, blank=True)
    done = models.PositiveIntegerField(_("rows done"), default=0)
    total = models.PositiveIntegerField(_("rows in all"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    # Set by the worker while it works on the job; an old heartbeat means the worker died.
    heartbeat = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        indexes = [models.Index(fields=["state", "created_at"], name="transfer_job_state_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=[s.value for s in JobState]),
                name="transfer_job_state_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"

    @property
    def is_busy(self) -> bool:
        return self.state in (
            JobState.QUEUED,
            JobState.CHECKING,
            JobState.CONFIRMED,
            JobState.WRITING,
        )

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)
