from django.db import migrations, models

import mailadmin.text


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0006_domain_usage"),
    ]

    operations = [
        migrations.AlterField(
            model_name="domain",
            name="description",
            field=models.CharField(
                blank=True,
                max_length=255,
                validators=[mailadmin.text.PlainTextValidator()],
                verbose_name="description",
            ),
        ),
    ]
