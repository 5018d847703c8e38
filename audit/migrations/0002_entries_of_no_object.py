from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="object_repr",
            field=models.CharField(blank=True, max_length=400, verbose_name="object"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="object_type",
            field=models.CharField(
                blank=True, db_index=True, max_length=40, verbose_name="object type"
            ),
        ),
    ]
