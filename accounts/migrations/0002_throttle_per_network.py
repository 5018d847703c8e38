# The throttle's counters are keyed by kind, identity and client network instead of one string;
# they are short-lived, so the old rows are dropped rather than converted.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.DeleteModel(name="LoginThrottle"),
        migrations.CreateModel(
            name="LoginThrottle",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("admin", "admin login"),
                            ("owner", "mailbox owner login"),
                            ("admin-password", "admin password change"),
                        ],
                        max_length=20,
                        verbose_name="kind",
                    ),
                ),
                ("identity", models.CharField(blank=True, max_length=254, verbose_name="identity")),
                ("network", models.CharField(blank=True, max_length=64, verbose_name="network")),
                ("failures", models.PositiveIntegerField(default=0, verbose_name="failures")),
                (
                    "last_failure",
                    models.DateTimeField(blank=True, null=True, verbose_name="last failure"),
                ),
                (
                    "blocked_until",
                    models.DateTimeField(blank=True, null=True, verbose_name="waits until"),
                ),
                ("expires_at", models.DateTimeField(db_index=True, verbose_name="expires at")),
            ],
            options={
                "verbose_name": "login throttle",
                "verbose_name_plural": "login throttles",
                "indexes": [
                    models.Index(
                        fields=["kind", "network", "identity"], name="accounts_throttle_net"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "identity", "network"), name="accounts_throttle_key"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("identity", ""), ("network", ""), _negated=True),
                        name="accounts_throttle_has_a_key",
                    ),
                ],
            },
        ),
    ]
