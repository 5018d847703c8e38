import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0007_plain_text_descriptions"),
    ]

    operations = [
        migrations.CreateModel(
            name="AliasDomainGrant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(max_length=253, unique=True, verbose_name="alias domain"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "domain",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="alias_domain_grants",
                        to="domains.domain",
                        verbose_name="domain",
                    ),
                ),
            ],
            options={
                "verbose_name": "alias domain grant",
                "verbose_name_plural": "alias domain grants",
                "ordering": ["name"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("name", django.db.models.functions.text.Lower("name"))),
                        name="aliasdomaingrant_name_lowercase",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("name", ""), _negated=True),
                        name="aliasdomaingrant_name_not_empty",
                    ),
                ],
            },
        ),
    ]
