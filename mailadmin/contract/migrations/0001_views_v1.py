from django.db import migrations

from mailadmin.contract import views_v1
from mailadmin.contract.dialects import dialect_of


def create_views(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        return  # created after the whole migrate run: see mailadmin/contract/sqlite_views.py
    for statement in views_v1.create_sql(dialect_of(schema_editor.connection)):
        schema_editor.execute(statement)


def drop_views(apps, schema_editor):
    for statement in views_v1.drop_sql(dialect_of(schema_editor.connection)):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    # MariaDB cannot roll DDL back; CREATE OR REPLACE VIEW makes the step safe to rerun.
    atomic = False

    dependencies = [
        ("domains", "0002_server_settings_row"),
        ("mailboxes", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_views, drop_views)]
