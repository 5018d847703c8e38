"""Login throttling state, kept in the database so every panel process sees the same counts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LoginThrottle(models.Model):
    """Failed logins counted under one key: a username with an IP, a username, or an IP."""

    key = models.CharField(_("key"), max_length=400, unique=True)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    # While in the future every login under this key is refused, even with the right password.
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    last_failure = models.DateTimeField(_("last failure"), null=True, blank=True)

    class Meta:
        verbose_name = _("login throttle")
        verbose_name_plural = _("login throttles")

    def __str__(self) -> str:
        return self.key
