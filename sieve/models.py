"""A mailbox's mail filters and vacation reply, and the Sieve script the panel makes of them.

The settings (Vacation, FilterRule, SieveSettings) are what owners and admins edit; the
script (SieveScript) is derived from them by sieve/script.py after every write
(sieve/services.py) and is all Dovecot ever reads.

SieveScript is read by Dovecot through the SQL dict: Pigeonhole asks the dict for the script's
data id by name (priv/sieve/name/panel), then for the text by that id (priv/sieve/data/ID), and
keeps a compiled binary per id: a changed script must get a new id, which data_id (a digest of
the text) gives. A mailbox without a row runs the default script (the contract view
mailadmin_dovecot_sieve supplies it), so "spam-flagged mail goes to Junk" holds for every
mailbox whoever created it.

A mailbox without a Vacation or SieveSettings row has the defaults: no vacation reply, spam
to Junk. The database holds the rules that must never break (choices, bounds, one rule per
position); sieve/rules.py gives the friendly messages in front of them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from mailboxes.models import Mailbox

# Days between two replies to the same sender (RFC 5230 :days). 1 is RFC 5230's least;
# 60 is Pigeonhole's default sieve_vacation_max_period, above which it would silently use 60.
MIN_DAYS = 1
MAX_DAYS = 60
DEFAULT_DAYS = 7


class SieveScript(models.Model):
    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, primary_key=True, related_name="sieve_script"
    )
    data_id = models.CharField(max_length=64)
    script = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Sieve script")

    def __str__(self) -> str:
        return f"{self.mailbox_id}:{self.data_id}"


class SieveSettings(models.Model):
    """The mailbox's switches that are not rules; no row: the defaults."""

    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, primary_key=True, related_name="sieve_settings"
    )
    spam_to_junk = models.BooleanField(_("move spam-flagged mail to Junk"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("filter settings")

    def __str__(self) -> str:
        return self.mailbox.address


class Vacation(models.Model):
    """The automatic reply while the owner is away (RFC 5230), kept when it is switched off so
    that it can be switched on again as it was."""

    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, primary_key=True, related_name="vacation"
    )
    enabled = models.BooleanField(_("on"), default=False)
    # Both inclusive, in the mail server's local time (Sieve's currentdate); none: no bound.
    start = models.DateField(_("first day"), null=True, blank=True)
    end = models.DateField(_("last day"), null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("message"))
    days = models.PositiveSmallIntegerField(
        _("days between two replies to the same sender"), default=DEFAULT_DAYS
    )
    # The addresses of the mailbox it answers for (sieve/selectors.answerable_addresses);
    # empty: all of them, as they are when the script is written.
    addresses = models.JSONField(_("answer mail to"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("vacation reply")
        constraints = [
            models.CheckConstraint(
                condition=Q(days__gte=MIN_DAYS, days__lte=MAX_DAYS), name="vacation_days_range"
            ),
            models.CheckConstraint(
                condition=Q(start__isnull=True) | Q(end__isnull=True) | Q(end__gte=F("start")),
                name="vacation_end_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(subject="") & ~Q(body=""), name="vacation_has_text"
            ),
        ]

    def __str__(self) -> str:
        return self.mailbox.address


class Condition(models.TextChoices):
    SENDER = "sender", _("sender (From)")
    RECIPIENT = "recipient", _("recipient (To or Cc)")
    SUBJECT = "subject", _("subject")
    HEADER = "header", _("header")


class Match(models.TextChoices):
    CONTAINS = "contains", _("contains")
    IS = "is", _("is")


class Action(models.TextChoices):
    FILE_INTO = "fileinto", _("file into a folder")
    FORWARD = "forward", _("forward")
    DISCARD = "discard", _("discard")
    MARK_READ = "mark_read", _("mark as read")


class FilterRule(models.Model):
    """One rule of the mailbox's filter: the first enabled rule that matches a message acts
    on it (sieve/script.py)."""

    mailbox = models.ForeignKey(
        Mailbox,
        on_delete=models.CASCADE,
        related_name="filter_rules",
        # The unique (mailbox, position) index serves every mailbox_id lookup.
        db_index=False,
    )
    # 0 is the first rule; the services keep a mailbox's positions 0, 1, 2, ... without gaps.
    position = models.PositiveIntegerField()
    condition = models.CharField(_("when"), max_length=10, choices=Condition.choices)
    header_name = models.CharField(_("header name"), max_length=64, blank=True)
    match = models.CharField(_("match"), max_length=10, choices=Match.choices)
    value = models.CharField(_("value"), max_length=255)
    action = models.CharField(_("then"), max_length=10, choices=Action.choices)
    folder = models.CharField(_("folder"), max_length=200, blank=True)
    forward_to = models.CharField(_("forward to"), max_length=254, blank=True)
    keep_copy = models.BooleanField(_("keep a copy"), default=False)
    enabled = models.BooleanField(_("on"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["mailbox", "position"]
        verbose_name = _("filter rule")
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "position"], name="filterrule_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(condition__in=Condition.values), name="filterrule_condition_valid"
            ),
            models.CheckConstraint(
                condition=Q(match__in=Match.values), name="filterrule_match_valid"
            ),
            models.CheckConstraint(
                condition=Q(action__in=Action.values), name="filterrule_action_valid"
            ),
            models.CheckConstraint(condition=~Q(value=""), name="filterrule_value_not_empty"),
            # A header name exactly when the condition is on a named header, a folder exactly
            # for "file into", an address exactly for "forward": nothing unused lingers.
            models.CheckConstraint(
                condition=Q(condition=Condition.HEADER) & ~Q(header_name="")
                | ~Q(condition=Condition.HEADER) & Q(header_name=""),
                name="filterrule_header_name_iff_header",
            ),
            models.CheckConstraint(
                condition=Q(action=Action.FILE_INTO) & ~Q(folder="")
                | ~Q(action=Action.FILE_INTO) & Q(folder=""),
                name="filterrule_folder_iff_fileinto",
            ),
            models.CheckConstraint(
                condition=Q(action=Action.FORWARD, forward_to__contains="@")
                | ~Q(action=Action.FORWARD) & Q(forward_to="", keep_copy=False),
                name="filterrule_forward_to_iff_forward",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox.address} #{self.position + 1}"
