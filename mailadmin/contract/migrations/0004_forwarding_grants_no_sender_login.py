from django.db import migrations

from mailadmin.contract import views_v1
from mailadmin.contract.dialects import dialect_of


def replace_views(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        return  # created after the whole migrate run: see mailadmin/contract/sqlite_views.py
    # mailadmin_postfix_sender_login no longer lets a forward's destinations send as the
    # mailbox; re-creating every view is idempotent, the columns stay the same.
    for statement in views_v1.create_sql(dialect_of(schema_editor.connection)):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("contract", "0003_pgsql_lookup_functions")]

    operations = [migrations.RunPython(replace_views, migrations.RunPython.noop)]
