"""The audit log: one row per change, written in the same transaction as the change itself."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    # The user may be deleted later; actor_label keeps who it was (or "system", or an owner's
    # address for self-service changes).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("who"), max_length=254)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=40)
    # Empty for a change of no single object (an import's summary): restore reads such
    # entries back, so blank is valid.
    object_type = models.CharField(_("object type"), max_length=40, db_index=True, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=400, blank=True)
    # ASCII name of the domain the change belongs to; empty for admin accounts and the server.
    domain = models.CharField(_("domain"), max_length=253, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["domain", "-created_at"], name="audit_domain_time"),
            models.Index(fields=["actor_label", "-created_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_label} {self.action} {self.object_repr}"
