"""The U-label lookup key of every domain and alias domain, and the server's postmaster.

unicode_key lets Postfix find an IDN domain by the folded U-label an SMTPUTF8 client sends
(domains.models.UnicodeKeyField keeps it on every later write). The rows that exist get it
here, computed with the idna package itself rather than with application code.
"""

import idna
from django.db import migrations, models


def unicode_key(ascii_name):
    try:
        folded = idna.decode(ascii_name).casefold()
    except (idna.IDNAError, UnicodeError):
        return None
    return None if folded.isascii() else folded


def fill_unicode_keys(apps, schema_editor):
    alias = schema_editor.connection.alias
    for model_name in ("Domain", "AliasDomain"):
        model = apps.get_model("domains", model_name)
        rows = model.objects.using(alias).filter(name__startswith="xn--") | model.objects.using(
            alias
        ).filter(name__contains=".xn--")
        for pk, name in rows.values_list("pk", "name"):
            model.objects.using(alias).filter(pk=pk).update(unicode_key=unicode_key(name))


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0009_relay_recipients"),
    ]

    operations = [
        migrations.AddField(
            model_name="aliasdomain",
            name="unicode_key",
            field=models.CharField(
                editable=False,
                max_length=253,
                null=True,
                unique=True,
                verbose_name="U-label lookup key",
            ),
        ),
        migrations.AddField(
            model_name="domain",
            name="unicode_key",
            field=models.CharField(
                editable=False,
                max_length=253,
                null=True,
                unique=True,
                verbose_name="U-label lookup key",
            ),
        ),
        migrations.AddField(
            model_name="serversettings",
            name="postmaster_address",
            field=models.CharField(
                default="postmaster@localhost",
                max_length=254,
                verbose_name="server postmaster address",
            ),
        ),
        migrations.RunPython(fill_unicode_keys, migrations.RunPython.noop),
    ]
