from django.db import migrations


def create_row(apps, schema_editor):
    ServerSettings = apps.get_model("domains", "ServerSettings")
    ServerSettings.objects.using(schema_editor.connection.alias).get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("domains", "0001_initial")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
