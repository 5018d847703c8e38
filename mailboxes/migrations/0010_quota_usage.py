"""QuotaUsage: Django's view of the contract table mailadmin_quota_usage (read only).

The table, its indexes and triggers are made by contract migration 0006 (the SQL of
mailadmin/contract/usage_table.py); this migration records the model's state only and runs no
SQL (managed = False), so that selectors can join the table.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contract", "0006_dovecot_delivery"),
        ("domains", "0011_postmaster_address_may_be_empty"),
        ("mailboxes", "0009_mailbox_login"),
    ]

    operations = [
        migrations.CreateModel(
            name="QuotaUsage",
            fields=[
                ("username", models.CharField(max_length=254, primary_key=True, serialize=False)),
                ("bytes", models.BigIntegerField()),
                ("messages", models.BigIntegerField()),
                (
                    "mailbox",
                    models.OneToOneField(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="quota_usage",
                        to="mailboxes.mailbox",
                    ),
                ),
                (
                    "domain",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="domains.domain",
                    ),
                ),
                ("permille", models.IntegerField(null=True)),
                ("updated_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "quota usage",
                "db_table": "mailadmin_quota_usage",
                "managed": False,
            },
        ),
    ]
