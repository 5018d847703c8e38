"""Relay recipient lists (domains_relayrecipient) and Domain.relay_accept_any.

New relay and backup-MX domains accept only their listed recipients. The relay and backup
domains that exist before this migration had no list and accepted every recipient; they keep
doing so (relay_accept_any = TRUE) until an admin fills in their list and turns it off.
"""

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models


def accept_any_for_existing_relays(apps, schema_editor):
    Domain = apps.get_model("domains", "Domain")
    Domain.objects.using(schema_editor.connection.alias).filter(
        delivery__in=["relay", "backup"]
    ).update(relay_accept_any=True)


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0008_alias_domain_grants"),
    ]

    operations = [
        migrations.AddField(
            model_name="domain",
            name="relay_accept_any",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Relay and backup-MX domains only: accept mail for any local part, not only "
                    "the listed recipients. Unknown recipients are then bounced later by the "
                    "next hop, to senders who are often forged (backscatter)."
                ),
                verbose_name="accept every recipient",
            ),
        ),
        migrations.RunPython(accept_any_for_existing_relays, migrations.RunPython.noop),
        migrations.CreateModel(
            name="RelayRecipient",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("local_part", models.CharField(max_length=64, verbose_name="local part")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "domain",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="relay_recipients",
                        to="domains.domain",
                        verbose_name="domain",
                    ),
                ),
            ],
            options={
                "verbose_name": "relay recipient",
                "verbose_name_plural": "relay recipients",
                "ordering": ["domain__name", "local_part"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("domain", "local_part"), name="relayrecipient_address_unique"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("local_part", django.db.models.functions.text.Lower("local_part"))
                        ),
                        name="relayrecipient_local_part_lowercase",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("local_part", ""), _negated=True),
                        name="relayrecipient_local_part_not_empty",
                    ),
                ],
            },
        ),
    ]
