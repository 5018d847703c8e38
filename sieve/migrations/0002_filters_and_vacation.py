"""A mailbox's filter rules, vacation reply and filter settings."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mailboxes", "0009_mailbox_login"),
        ("sieve", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SieveSettings",
            fields=[
                (
                    "mailbox",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="sieve_settings",
                        serialize=False,
                        to="mailboxes.mailbox",
                    ),
                ),
                (
                    "spam_to_junk",
                    models.BooleanField(
                        default=True, verbose_name="move spam-flagged mail to Junk"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "filter settings",
            },
        ),
        migrations.CreateModel(
            name="Vacation",
            fields=[
                (
                    "mailbox",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="vacation",
                        serialize=False,
                        to="mailboxes.mailbox",
                    ),
                ),
                ("enabled", models.BooleanField(default=False, verbose_name="on")),
                ("start", models.DateField(blank=True, null=True, verbose_name="first day")),
                ("end", models.DateField(blank=True, null=True, verbose_name="last day")),
                ("subject", models.CharField(max_length=255, verbose_name="subject")),
                ("body", models.TextField(verbose_name="message")),
                (
                    "days",
                    models.PositiveSmallIntegerField(
                        default=7, verbose_name="days between two replies to the same sender"
                    ),
                ),
                (
                    "addresses",
                    models.JSONField(blank=True, default=list, verbose_name="answer mail to"),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "vacation reply",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("days__gte", 1), ("days__lte", 60)),
                        name="vacation_days_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("start__isnull", True),
                            ("end__isnull", True),
                            ("end__gte", models.F("start")),
                            _connector="OR",
                        ),
                        name="vacation_end_after_start",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("subject", ""), _negated=True),
                            models.Q(("body", ""), _negated=True),
                        ),
                        name="vacation_has_text",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="FilterRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField()),
                (
                    "condition",
                    models.CharField(
                        choices=[
                            ("sender", "sender (From)"),
                            ("recipient", "recipient (To or Cc)"),
                            ("subject", "subject"),
                            ("header", "header"),
                        ],
                        max_length=10,
                        verbose_name="when",
                    ),
                ),
                (
                    "header_name",
                    models.CharField(blank=True, max_length=64, verbose_name="header name"),
                ),
                (
                    "match",
                    models.CharField(
                        choices=[("contains", "contains"), ("is", "is")],
                        max_length=10,
                        verbose_name="match",
                    ),
                ),
                ("value", models.CharField(max_length=255, verbose_name="value")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("fileinto", "file into a folder"),
                            ("forward", "forward"),
                            ("discard", "discard"),
                            ("mark_read", "mark as read"),
                        ],
                        max_length=10,
                        verbose_name="then",
                    ),
                ),
                ("folder", models.CharField(blank=True, max_length=200, verbose_name="folder")),
                (
                    "forward_to",
                    models.CharField(blank=True, max_length=254, verbose_name="forward to"),
                ),
                ("keep_copy", models.BooleanField(default=False, verbose_name="keep a copy")),
                ("enabled", models.BooleanField(default=True, verbose_name="on")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "mailbox",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="filter_rules",
                        to="mailboxes.mailbox",
                    ),
                ),
            ],
            options={
                "verbose_name": "filter rule",
                "ordering": ["mailbox", "position"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("mailbox", "position"), name="filterrule_position_unique"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("condition__in", ["sender", "recipient", "subject", "header"])
                        ),
                        name="filterrule_condition_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("match__in", ["contains", "is"])),
                        name="filterrule_match_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("action__in", ["fileinto", "forward", "discard", "mark_read"])
                        ),
                        name="filterrule_action_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("value", ""), _negated=True),
                        name="filterrule_value_not_empty",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("condition", "header"),
                                models.Q(("header_name", ""), _negated=True),
                            ),
                            models.Q(
                                models.Q(("condition", "header"), _negated=True),
                                ("header_name", ""),
                            ),
                            _connector="OR",
                        ),
                        name="filterrule_header_name_iff_header",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("action", "fileinto"), models.Q(("folder", ""), _negated=True)
                            ),
                            models.Q(
                                models.Q(("action", "fileinto"), _negated=True), ("folder", "")
                            ),
                            _connector="OR",
                        ),
                        name="filterrule_folder_iff_fileinto",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("action", "forward"), ("forward_to__contains", "@")),
                            models.Q(
                                models.Q(("action", "forward"), _negated=True),
                                ("forward_to", ""),
                                ("keep_copy", False),
                            ),
                            _connector="OR",
                        ),
                        name="filterrule_forward_to_iff_forward",
                    ),
                ],
            },
        ),
    ]
