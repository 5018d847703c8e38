"""Domains, alias domains and the server-wide mail defaults.

Postfix and Dovecot never read these tables: they read the views of the mail-stack contract
(mailadmin/contract). Constraints here back every rule that must hold whatever writes the rows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from mailadmin.ids import MAX_ID
from mailadmin.names import domain_to_unicode
from mailadmin.text import validate_plain_text


def unicode_lookup_key(ascii_name: str) -> str | None:
    """The key Postfix looks an IDN domain up with in SMTPUTF8 mail, or None.

    Postfix sends such a domain as its U-label and folds every lookup key (ICU case folding
    when smtputf8_enable is on, as Python's str.casefold does): BÜCHER.example reaches the
    tables as bücher.example. None for an ASCII name, and for a U-label that folds to ASCII
    (straße.example folds to strasse.example, another domain): it is found by its A-label.
    """
    if not ascii_name.isascii():
        return None
    unicode_name = domain_to_unicode(ascii_name).casefold()
    return None if unicode_name.isascii() else unicode_name


class UnicodeKeyField(models.CharField):
    """The folded U-label of the model's `name` (unicode_lookup_key), set on every save.

    Django asks a field for its value in pre_save() on every insert and update, bulk_create
    included, so every writer of a domain or alias domain keeps it: the panel, the CLI and the
    import. The contract views offer it to Postfix next to the A-label. Migrations see a plain
    CharField (deconstruct), so no migration imports this module.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 253)
        kwargs.setdefault("null", True)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        value = unicode_lookup_key(getattr(model_instance, "name", ""))
        setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class Delivery(models.TextChoices):
    HOSTED = "hosted", _("Hosted here")
    RELAY = "relay", _("Relayed to a next hop")
    BACKUP = "backup", _("Backup MX")


class OwnerForwarding(models.TextChoices):
    OFF = "off", _("Not allowed")
    LOCAL = "local", _("Only to domains of this server")
    ANY = "any", _("To any address")


class Domain(models.Model):
    name = models.CharField(_("name"), max_length=253, unique=True)
    unicode_key = UnicodeKeyField(_("U-label lookup key"))
    description = models.CharField(
        _("description"), max_length=255, blank=True, validators=[validate_plain_text]
    )
    active = models.BooleanField(_("active"), default=True)
    delivery = models.CharField(
        _("delivery"), max_length=10, choices=Delivery.choices, default=Delivery.HOSTED
    )
    # A Postfix transport_maps result; empty means the default transport for the domain class.
    transport = models.CharField(_("transport"), max_length=255, blank=True)
    # Limits: 0 means no limit.
    max_mailboxes = models.PositiveIntegerField(_("max mailboxes"), default=0)
    max_aliases = models.PositiveIntegerField(_("max aliases"), default=0)
    max_mailbox_quota = models.PositiveBigIntegerField(
        _("max quota per mailbox (bytes)"), default=0
    )
    total_quota = models.PositiveBigIntegerField(_("total quota (bytes)"), default=0)
    # The quota a new mailbox gets when none is given; 0: the maximum above (no limit without
    # one). Never above the maximum (domains.services.check_default_quota).
    default_mailbox_quota = models.PositiveBigIntegerField(
        _("default quota of a new mailbox (bytes)"), default=0
    )
    # What mailbox owners may set up as forwarding on their own (/me/forwarding/).
    owner_forwarding = models.CharField(
        _("forwarding by owners"),
        max_length=10,
        choices=OwnerForwarding.choices,
        default=OwnerForwarding.ANY,
    )
    max_forwards = models.PositiveSmallIntegerField(
        _("max forwarding addresses per mailbox"), default=5, help_text=_("0: no limit")
    )
    # Owner of delivered mail for this domain's mailboxes; NULL falls back to ServerSettings.
    uid = models.PositiveIntegerField(_("uid"), null=True, blank=True)
    gid = models.PositiveIntegerField(_("gid"), null=True, blank=True)
    # Relay and backup-MX domains: True accepts every recipient (the next hop bounces the
    # unknown ones later, as backscatter); False accepts only the local parts listed in
    # relay_recipients. Hosted domains ignore it. Migration 0009 set it for the relay and
    # backup domains that existed before the lists, so their mail kept flowing.
    relay_accept_any = models.BooleanField(
        _("accept every recipient"),
        default=False,
        help_text=_(
            "Relay and backup-MX domains only: accept mail for any local part, not only the "
            "listed recipients. Unknown recipients are then bounced later by the next hop, "
            "to senders who are often forged (backscatter)."
        ),
    )
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="administered_domains",
        blank=True,
        verbose_name=_("domain admins"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("domain")
        verbose_name_plural = _("domains")
        constraints = [
            models.CheckConstraint(condition=Q(name=Lower("name")), name="domain_name_lowercase"),
            models.CheckConstraint(condition=~Q(name=""), name="domain_name_not_empty"),
            models.CheckConstraint(
                condition=Q(delivery__in=[d.value for d in Delivery]), name="domain_delivery_known"
            ),
            models.CheckConstraint(
                condition=~Q(delivery=Delivery.RELAY) | ~Q(transport=""),
                name="domain_relay_has_transport",
            ),
            models.CheckConstraint(
                condition=Q(owner_forwarding__in=[f.value for f in OwnerForwarding]),
                name="domain_owner_forwarding_known",
            ),
            models.CheckConstraint(
                condition=Q(uid__isnull=True) | Q(uid__gte=1, uid__lte=MAX_ID),
                name="domain_uid_not_root",
            ),
            models.CheckConstraint(
                condition=Q(gid__isnull=True) | Q(gid__gte=1, gid__lte=MAX_ID),
                name="domain_gid_not_root",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return domain_to_unicode(self.name)

    @property
    def is_hosted(self) -> bool:
        return self.delivery == Delivery.HOSTED


class AliasDomain(models.Model):
    """`name` receives mail for the same local parts of the hosted domain `target`."""

    name = models.CharField(_("alias domain"), max_length=253, unique=True)
    unicode_key = UnicodeKeyField(_("U-label lookup key"))
    target = models.ForeignKey(
        Domain, on_delete=models.CASCADE, related_name="alias_domains", verbose_name=_("target")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("alias domain")
        verbose_name_plural = _("alias domains")
        constraints = [
            models.CheckConstraint(
                condition=Q(name=Lower("name")), name="aliasdomain_name_lowercase"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="aliasdomain_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.target.name}"

    @property
    def display_name(self) -> str:
        return domain_to_unicode(self.name)


class AliasDomainGrant(models.Model):
    """A superadmin lets the admins of `domain` add `name` as one of its alias domains.

    An alias domain takes all mail this server's users send to its name and lets the target's
    users send as it, so a domain admin may add only the names a superadmin checked and
    granted (docs/admin-panel.md); superadmins add any.
    """

    name = models.CharField(_("alias domain"), max_length=253, unique=True)
    domain = models.ForeignKey(
        Domain,
        on_delete=models.CASCADE,
        related_name="alias_domain_grants",
        verbose_name=_("domain"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("alias domain grant")
        verbose_name_plural = _("alias domain grants")
        constraints = [
            models.CheckConstraint(
                condition=Q(name=Lower("name")), name="aliasdomaingrant_name_lowercase"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="aliasdomaingrant_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} for {self.domain.name}"

    @property
    def display_name(self) -> str:
        return domain_to_unicode(self.name)


class RelayRecipient(models.Model):
    """A local part that a relay or backup-MX domain accepts mail for.

    Postfix's relay_recipient_maps reads these rows through the contract views: unless the
    domain accepts every recipient (Domain.relay_accept_any), mail for any other local part of
    the domain is refused at RCPT TO instead of being accepted and bounced later.
    """

    domain = models.ForeignKey(
        Domain,
        on_delete=models.CASCADE,
        related_name="relay_recipients",
        verbose_name=_("domain"),
        # The unique (domain, local_part) index serves every domain_id lookup.
        db_index=False,
    )
    local_part = models.CharField(_("local part"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain__name", "local_part"]
        verbose_name = _("relay recipient")
        verbose_name_plural = _("relay recipients")
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "local_part"], name="relayrecipient_address_unique"
            ),
            models.CheckConstraint(
                condition=Q(local_part=Lower("local_part")),
                name="relayrecipient_local_part_lowercase",
            ),
            models.CheckConstraint(
                condition=~Q(local_part=""), name="relayrecipient_local_part_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain.name}"

    @property
    def display_address(self) -> str:
        return f"{self.local_part}@{self.domain.display_name}"


class DomainUsage(models.Model):
    """How many mailboxes and aliases a domain has and the quota its mailboxes hold.

    Kept by database triggers (domains/usage_triggers.py) on every insert, update and delete of
    a domain, mailbox or alias, whoever writes the row, so the panel reads one row per domain
    instead of counting a big domain's mailboxes on every page. Never written by the ORM.
    """

    domain = models.OneToOneField(
        Domain, on_delete=models.CASCADE, primary_key=True, related_name="usage"
    )
    mailboxes = models.PositiveIntegerField(default=0)
    aliases = models.PositiveIntegerField(default=0)
    # The sum of the mailboxes' quotas in bytes (0, no limit, adds nothing).
    quota_allocated = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("domain usage")
        verbose_name_plural = _("domain usage")

    def __str__(self) -> str:
        return f"{self.mailboxes} mailboxes, {self.aliases} aliases"


class ServerSettings(models.Model):
    """The one row of server-wide defaults that the contract views read (id is always 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    default_uid = models.PositiveIntegerField(_("default uid"), default=5000)
    default_gid = models.PositiveIntegerField(_("default gid"), default=5000)
    # Where postmaster@ and abuse@ of a hosted domain go when its admin set up no mailbox,
    # alias or catch-all for them (RFC 5321 4.5.1); empty: nowhere, they are refused.
    postmaster_address = models.CharField(
        _("server postmaster address"),
        max_length=254,
        default="postmaster@localhost",
        blank=True,
    )

    class Meta:
        verbose_name = _("server settings")
        verbose_name_plural = _("server settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="serversettings_single_row"),
            models.CheckConstraint(
                condition=Q(default_uid__gte=1, default_uid__lte=MAX_ID), name="serversettings_uid"
            ),
            models.CheckConstraint(
                condition=Q(default_gid__gte=1, default_gid__lte=MAX_ID), name="serversettings_gid"
            ),
        ]

    def __str__(self) -> str:
        return f"uid {self.default_uid}, gid {self.default_gid}"

    @classmethod
    def load(cls) -> ServerSettings:
        obj, _created = cls.objects.get_or_create(id=1)
        return obj
