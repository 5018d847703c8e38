"""The password policy that mailbox owners' own password changes must meet.

One row (id 1), set by a superadmin on /me/admin/policy/ or with `manage.py password_policy`.
Passwords that admins set or generate are not bound by it: they follow mailboxes.services.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mailboxes.rules import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

# Below this no policy may go: a mail password is attacked online over IMAP, SMTP and POP3;
# the owners' policy may ask for more than the rule of every password, never for less.
MIN_LENGTH_FLOOR = MIN_PASSWORD_LENGTH
MAX_LENGTH = MAX_PASSWORD_LENGTH


class PasswordPolicy(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    min_length = models.PositiveSmallIntegerField(_("minimum length"), default=10)
    forbid_address = models.BooleanField(_("refuse the address and its local part"), default=True)
    forbid_common = models.BooleanField(_("refuse common passwords"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("password policy")
        verbose_name_plural = _("password policies")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="passwordpolicy_single_row"),
            models.CheckConstraint(
                condition=Q(min_length__gte=MIN_LENGTH_FLOOR, min_length__lte=128),
                name="passwordpolicy_min_length_range",
            ),
        ]

    def __str__(self) -> str:
        return f"min {self.min_length}"

    @classmethod
    def load(cls) -> PasswordPolicy:
        """The policy row; the defaults until a superadmin saves one."""
        return cls.objects.filter(id=1).first() or cls(id=1)
