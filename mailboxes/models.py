"""Mailboxes and aliases of hosted domains.

An address is a local part in a domain; both are stored lowercase. A mailbox and an alias may
share an address: the alias then decides where that address's mail goes, and it keeps a copy in
the mailbox only when the mailbox's own address is one of its destinations (Postfix delivers an
address that expands to itself). See docs/mail-stack.md, "Mailbox and alias with the same
address".
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from domains.models import Domain
from mailadmin.ids import MAX_ID
from mailadmin.text import validate_plain_text
from mailboxes.paths import check_path


class StorageFormat(models.TextChoices):
    MAILDIR = "maildir", _("Maildir")
    MBOX = "mbox", _("mbox")


class Mailbox(models.Model):
    domain = models.ForeignKey(
        Domain,
        on_delete=models.CASCADE,
        related_name="mailboxes",
        verbose_name=_("domain"),
        # The unique (domain, local_part) index serves every domain_id lookup; a second index
        # on domain_id alone misleads the planner into scanning a big domain's rows.
        db_index=False,
    )
    local_part = models.CharField(_("local part"), max_length=64)
    name = models.CharField(
        _("display name"), max_length=255, blank=True, validators=[validate_plain_text]
    )
    # Dovecot's {SCHEME}hash form; see mailadmin.passwords.
    password = models.CharField(_("password hash"), max_length=255)
    quota = models.PositiveBigIntegerField(
        _("quota (bytes)"), default=0, help_text=_("0: no limit")
    )
    format = models.CharField(
        _("storage format"), max_length=10, choices=StorageFormat.choices, default="maildir"
    )
    # Under the mail base: "domain/local/" (Maildir, trailing slash) or "domain/local/mbox".
    path = models.CharField(_("path"), max_length=400)
    uid = models.PositiveIntegerField(_("uid"), null=True, blank=True)
    gid = models.PositiveIntegerField(_("gid"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # The owner's self-service (/me/); neither flag changes what Postfix or Dovecot do.
    panel_login_enabled = models.BooleanField(_("owner may log in to the panel"), default=True)
    must_change_password = models.BooleanField(
        _("owner must change the password at next login"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain__name", "local_part"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        # The partial index mailbox_inactive_by_address ((domain_id, local_part) WHERE NOT
        # active, for the dashboard's inactive counts) is created by migration 0006 on
        # PostgreSQL and SQLite only: MariaDB would make it a full index. The local part is in
        # its key because check_recipient_access's lookup plan uses it too (0006).
        constraints = [
            models.UniqueConstraint(fields=["domain", "local_part"], name="mailbox_address_unique"),
            models.CheckConstraint(
                condition=Q(local_part=Lower("local_part")), name="mailbox_local_part_lowercase"
            ),
            models.CheckConstraint(
                condition=~Q(local_part=""), name="mailbox_local_part_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(password__startswith="{"),  # noqa: S106 - a scheme prefix, not a secret
                name="mailbox_password_has_scheme",
            ),
            models.CheckConstraint(
                condition=Q(format="maildir", path__endswith="/")
                | Q(format="mbox") & ~Q(path__endswith="/"),
                name="mailbox_path_matches_format",
            ),
            models.CheckConstraint(
                condition=~Q(path__startswith="/") & ~Q(path__contains=".."),
                name="mailbox_path_under_base",
            ),
            # Dovecot reads ":" in a mail location as the start of a parameter (INBOX=,
            # INDEX=…) and expands "%": neither may ever reach its userdb answer. The full
            # rule is mailboxes/paths.py; this is the part the database itself can hold.
            models.CheckConstraint(
                condition=~Q(path__contains=":")
                & ~Q(path__contains="%")
                & ~Q(path__contains=" ")
                & ~Q(path__contains="\t")
                & ~Q(path__contains="\n")
                & ~Q(path__contains="\r")
                & ~Q(path__contains="//"),
                name="mailbox_path_plain",
            ),
            # Two mailboxes never share a mail directory. varchar_pattern_ops (PostgreSQL
            # only; ignored elsewhere) lets the same index answer the prefix searches of
            # mailboxes.storage.path_conflict.
            models.UniqueConstraint(
                fields=["path"], opclasses=["varchar_pattern_ops"], name="mailbox_path_unique"
            ),
            models.CheckConstraint(
                condition=Q(uid__isnull=True) | Q(uid__gte=1, uid__lte=MAX_ID),
                name="mailbox_uid_not_root",
            ),
            models.CheckConstraint(
                condition=Q(gid__isnull=True) | Q(gid__gte=1, gid__lte=MAX_ID),
                name="mailbox_gid_not_root",
            ),
        ]

    def __str__(self) -> str:
        return self.address

    def clean(self) -> None:
        if self.domain_id is None or not self.local_part:
            return
        try:
            check_path(
                self.path,
                domain=self.domain.name,
                local_part=self.local_part,
                storage_format=self.format,
            )
        except ValidationError as exc:
            raise ValidationError({"path": exc}) from None

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain.name}"


class Alias(models.Model):
    """Mail for `local_part@domain` goes to every destination; an empty local part is the
    domain's catch-all, which takes only addresses that are neither a mailbox nor an alias."""

    domain = models.ForeignKey(
        Domain,
        on_delete=models.CASCADE,
        related_name="aliases",
        verbose_name=_("domain"),
        # The unique (domain, local_part) index serves every domain_id lookup; a second index
        # on domain_id alone misleads the planner into scanning a big domain's rows.
        db_index=False,
    )
    local_part = models.CharField(_("local part"), max_length=64, blank=True)
    description = models.CharField(
        _("description"), max_length=255, blank=True, validators=[validate_plain_text]
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain__name", "local_part"]
        verbose_name = _("alias")
        verbose_name_plural = _("aliases")
        # The partial index alias_inactive_by_domain ((domain_id) WHERE NOT active, for the
        # dashboard's inactive counts) is created by migration 0004 on PostgreSQL and SQLite
        # only: MariaDB would make it a full domain_id index, which 0003 removed on purpose.
        constraints = [
            models.UniqueConstraint(fields=["domain", "local_part"], name="alias_address_unique"),
            models.CheckConstraint(
                condition=Q(local_part=Lower("local_part")), name="alias_local_part_lowercase"
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain.name}"

    @property
    def is_catchall(self) -> bool:
        return self.local_part == ""


class AliasDestination(models.Model):
    """One destination of an alias: a row each, never a comma-joined list."""

    alias = models.ForeignKey(Alias, on_delete=models.CASCADE, related_name="destinations")
    address = models.CharField(_("destination"), max_length=254)

    class Meta:
        ordering = ["address"]
        constraints = [
            models.UniqueConstraint(fields=["alias", "address"], name="aliasdestination_unique"),
            models.CheckConstraint(
                condition=Q(address=Lower("address")), name="aliasdestination_lowercase"
            ),
            models.CheckConstraint(
                condition=Q(address__contains="@") & ~Q(address__startswith="@"),
                name="aliasdestination_is_address",
            ),
        ]

    def __str__(self) -> str:
        return self.address


class MailboxLogin(models.Model):
    """A mailbox's login, its whole address, as one indexed key.

    Dovecot names a user by the address alone (quota_clone's usage rows, the Sieve dict's
    lookups, the owner's language for quota warnings): a key that is local part and domain
    name in two tables cannot be found by it in one index probe. Kept by database triggers
    (mailadmin/contract/login_triggers.py) for every writer, so it can never miss a mailbox.
    """

    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, primary_key=True, related_name="login"
    )
    username = models.CharField(max_length=254, unique=True)
    # The owner's language for what Dovecot writes to them (quota warnings); "" is English.
    language = models.CharField(max_length=8, blank=True, default="")

    class Meta:
        verbose_name = _("mailbox login")

    def __str__(self) -> str:
        return self.username


# "Nearly full": at least 90% of the quota, in the usage table's permille (its own index).
NEARLY_FULL_PERMILLE = 900


class QuotaUsage(models.Model):
    """What Dovecot last reported of a mailbox's use: the contract table mailadmin_quota_usage.

    Dovecot's quota_clone writes username, bytes and messages after every change; triggers add
    the mailbox, its domain and permille (bytes per thousand of the quota, NULL without a
    quota). The table and its indexes belong to the contract (mailadmin/contract/usage_table.py):
    Django only reads it (managed = False), and nothing in the panel writes it. A mailbox
    without a row has not been reported yet, which is not the same as empty.
    """

    username = models.CharField(max_length=254, primary_key=True)
    bytes = models.BigIntegerField()
    messages = models.BigIntegerField()
    # The database removes the row with its mailbox (mailadmin/contract/usage_table.py);
    # DO_NOTHING keeps Django from writing here when it deletes one.
    mailbox = models.OneToOneField(
        Mailbox,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="quota_usage",
    )
    domain = models.ForeignKey(
        Domain, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    permille = models.IntegerField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "mailadmin_quota_usage"
        verbose_name = _("quota usage")

    def __str__(self) -> str:
        return self.username

    def save(self, *args: object, **kwargs: object) -> None:
        raise TypeError("mailadmin_quota_usage is written by Dovecot only")

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("mailadmin_quota_usage is written by Dovecot only")

    @property
    def percent(self) -> int | None:
        """Whole percent of the quota used, rounded down (over 100 when over it); None
        without a quota."""
        return None if self.permille is None else self.permille // 10

    @property
    def nearly_full(self) -> bool:
        return self.permille is not None and self.permille >= NEARLY_FULL_PERMILLE

    @property
    def over_quota(self) -> bool:
        return self.permille is not None and self.permille >= 1000
