from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0010_unicode_keys_postmaster"),
    ]

    operations = [
        migrations.AlterField(
            model_name="serversettings",
            name="postmaster_address",
            field=models.CharField(
                blank=True,
                default="postmaster@localhost",
                max_length=254,
                verbose_name="server postmaster address",
            ),
        ),
    ]
