import django.db.models.deletion
from django.db import migrations, models

from domains import usage_triggers
from mailadmin import vendor_indexes

# The dashboard's "hosted domains without a mailbox" and "inactive domains": a few hundred
# rows each (relay and backup-MX domains have no mailboxes), where a full index would hold
# every domain.
PARTIAL_INDEXES = [
    ("domainusage_without_mailboxes", "domains_domainusage", "domain_id", "mailboxes = 0"),
    ("domain_inactive_by_name", "domains_domain", "name", "NOT active"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0005_trigram_indexes_on_upper"),
        ("mailboxes", "0005_trigram_indexes_on_upper"),
    ]

    operations = [
        migrations.CreateModel(
            name="DomainUsage",
            fields=[
                (
                    "domain",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="usage",
                        serialize=False,
                        to="domains.domain",
                    ),
                ),
                ("mailboxes", models.PositiveIntegerField(default=0)),
                ("aliases", models.PositiveIntegerField(default=0)),
                ("quota_allocated", models.PositiveBigIntegerField(default=0)),
            ],
            options={"verbose_name": "domain usage", "verbose_name_plural": "domain usage"},
        ),
        # atomic=False: MariaDB cannot run DDL inside a transaction; on PostgreSQL and SQLite
        # the whole migration is one transaction anyway.
        migrations.RunPython(
            usage_triggers.create, usage_triggers.drop, atomic=False, elidable=False
        ),
        migrations.RunPython(
            vendor_indexes.create_partial(PARTIAL_INDEXES),
            vendor_indexes.drop_partial(PARTIAL_INDEXES),
            elidable=False,
        ),
    ]
