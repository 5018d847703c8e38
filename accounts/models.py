"""Login throttling state, kept in the database so every panel process sees the same counts."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LoginKind(models.TextChoices):
    """The key spaces: a failure in one never delays an attempt in another."""

    ADMIN = "admin", _("admin login")
    OWNER = "owner", _("mailbox owner login")
    ADMIN_PASSWORD = "admin-password", _("admin password change")


class LoginThrottle(models.Model):
    """Failed logins of one kind, counted for an identity from a client network (a pair), for an
    identity from everywhere (network ""), or from a network for every identity (identity "")."""

    kind = models.CharField(_("kind"), max_length=20, choices=LoginKind.choices)
    # The canonical identity the login resolves to: an admin's username, an owner's address.
    identity = models.CharField(_("identity"), max_length=254, blank=True)
    # An IPv4 address or an IPv6 /64 (accounts.throttle.network_of).
    network = models.CharField(_("network"), max_length=64, blank=True)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    last_failure = models.DateTimeField(_("last failure"), null=True, blank=True)
    # Pairs only: no attempt is checked before this time (the growing delay after failures).
    blocked_until = models.DateTimeField(_("waits until"), null=True, blank=True)
    # Forgotten and pruned after this (a quiet day after the last failure, or the wait's end).
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("login throttle")
        verbose_name_plural = _("login throttles")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "identity", "network"], name="accounts_throttle_key"
            ),
            models.CheckConstraint(
                condition=~Q(identity="", network=""), name="accounts_throttle_has_a_key"
            ),
        ]
        # The unique key serves lookups by identity; this one those by network (the ceiling
        # check of every attempt, lifting a network).
        indexes = [
            models.Index(fields=["kind", "network", "identity"], name="accounts_throttle_net")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.identity or '*'} from {self.network or '*'}"
