from django.db import migrations

from mailadmin.contract import views_v1
from mailadmin.contract.dialects import dialect_of


def create_views(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        return  # created after the whole migrate run: see mailadmin/contract/sqlite_views.py
    # Re-creating every view is idempotent and adds mailadmin_postfix_recipient_access.
    for statement in views_v1.create_sql(dialect_of(schema_editor.connection)):
        schema_editor.execute(statement)


def drop_recipient_access(apps, schema_editor):
    schema_editor.execute("DROP VIEW IF EXISTS mailadmin_postfix_recipient_access")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("contract", "0001_views_v1")]

    operations = [migrations.RunPython(create_views, drop_recipient_access)]
