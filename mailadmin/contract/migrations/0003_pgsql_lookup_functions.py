from django.db import migrations

from mailadmin.contract import queries


def create_functions(apps, schema_editor):
    # PostgreSQL only: MariaDB and SQLite keep querying the views (docs/mail-stack.md).
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in queries.lookup_functions_create_sql():
        schema_editor.execute(statement)


def drop_functions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in queries.lookup_functions_drop_sql():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    # Like the views: CREATE OR REPLACE makes the step safe to rerun.
    atomic = False

    dependencies = [("contract", "0002_recipient_access")]

    operations = [migrations.RunPython(create_functions, drop_functions)]
