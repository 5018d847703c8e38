"""Mailbox paths: no Dovecot syntax in them and no two alike (mailboxes/paths.py).

Before the constraints are added, rows that would break them are listed and the migration
stops: changing a mailbox's path moves where its mail is read from, which only the operator
can decide (give each its canonical path domain/local/, move the mail, migrate again).
"""

from django.db import migrations, models
from django.db.models import Count, Q

import mailadmin.text

_UNSAFE = ":% \t\n\r"


def refuse_unsafe_paths(apps, schema_editor):
    Mailbox = apps.get_model("mailboxes", "Mailbox")
    unsafe = Q(path__contains="//")
    for ch in _UNSAFE:
        unsafe |= Q(path__contains=ch)
    bad = [
        f"{local}@{domain}: {path!r}"
        for local, domain, path in Mailbox.objects.filter(unsafe).values_list(
            "local_part", "domain__name", "path"
        )[:50]
    ]
    shared = (
        Mailbox.objects.values("path").annotate(n=Count("id")).filter(n__gt=1).values_list("path")
    )
    bad += [f"{path!r} is the path of several mailboxes" for (path,) in shared[:50]]
    if bad:
        raise RuntimeError(
            "These mailbox paths hold characters Dovecot reads as configuration, or are "
            "shared; give each mailbox its own plain path (domain/local/), move its mail, and "
            "migrate again:\n  " + "\n  ".join(bad)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0007_plain_text_descriptions"),
        ("mailboxes", "0007_search_statistics"),
    ]

    operations = [
        migrations.RunPython(refuse_unsafe_paths, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="alias",
            name="description",
            field=models.CharField(
                blank=True,
                max_length=255,
                validators=[mailadmin.text.PlainTextValidator()],
                verbose_name="description",
            ),
        ),
        migrations.AlterField(
            model_name="mailbox",
            name="name",
            field=models.CharField(
                blank=True,
                max_length=255,
                validators=[mailadmin.text.PlainTextValidator()],
                verbose_name="display name",
            ),
        ),
        migrations.AddConstraint(
            model_name="mailbox",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("path__contains", ":"), _negated=True),
                    models.Q(("path__contains", "%"), _negated=True),
                    models.Q(("path__contains", " "), _negated=True),
                    models.Q(("path__contains", "\t"), _negated=True),
                    models.Q(("path__contains", "\n"), _negated=True),
                    models.Q(("path__contains", "\r"), _negated=True),
                    models.Q(("path__contains", "//"), _negated=True),
                ),
                name="mailbox_path_plain",
            ),
        ),
        migrations.AddConstraint(
            model_name="mailbox",
            constraint=models.UniqueConstraint(
                fields=("path",), name="mailbox_path_unique", opclasses=["varchar_pattern_ops"]
            ),
        ),
    ]
