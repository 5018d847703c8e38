"""The panel's Sieve script per mailbox (SieveScript)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("mailboxes", "0009_mailbox_login"),
    ]

    operations = [
        migrations.CreateModel(
            name="SieveScript",
            fields=[
                (
                    "mailbox",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="sieve_script",
                        serialize=False,
                        to="mailboxes.mailbox",
                    ),
                ),
                ("data_id", models.CharField(max_length=64)),
                ("script", models.TextField()),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "Sieve script",
            },
        ),
    ]
