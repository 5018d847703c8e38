# One admin account per name in any case: a unique index on the folded username of Django's
# auth_user (the model is Django's, so the index is written here for each server). PostgreSQL
# and SQLite index lower(username); MariaDB has no index on an expression, so it indexes a
# virtual column that holds it. SQLite's lower() folds ASCII letters only.
#
# An installation that already holds two spellings of one name cannot get the index: the
# migration stops before any change and names them, to be merged or deleted first
# (`manage.py admin delete NAME`).

from typing import Any

from django.db import migrations

INDEX = "accounts_username_folded_uniq"
COLUMN = "accounts_username_folded"


def _spellings(schema_editor: Any) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.username FROM auth_user u WHERE lower(u.username) IN"
            " (SELECT lower(username) FROM auth_user GROUP BY lower(username)"
            " HAVING count(*) > 1) ORDER BY lower(u.username), u.id"
        )
        return [row[0] for row in cursor.fetchall()]


def create(apps: Any, schema_editor: Any) -> None:
    spellings = _spellings(schema_editor)
    if spellings:
        raise RuntimeError(
            "These admin accounts have names that differ only in case: "
            f"{', '.join(spellings)}. Usernames that differ only in case are one name now: "
            "delete or rename all but one of each (manage.py admin delete NAME), then migrate."
        )
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(
            f"ALTER TABLE auth_user ADD COLUMN {COLUMN} varchar(150)"
            f" AS (lower(username)) VIRTUAL, ADD UNIQUE INDEX {INDEX} ({COLUMN})"
        )
    else:
        schema_editor.execute(f"CREATE UNIQUE INDEX {INDEX} ON auth_user (lower(username))")


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(f"ALTER TABLE auth_user DROP INDEX {INDEX}, DROP COLUMN {COLUMN}")
    else:
        schema_editor.execute(f"DROP INDEX {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_throttle_per_network"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    # atomic=False: MariaDB cannot roll DDL back, and Django refuses DDL inside a transaction
    # there; on PostgreSQL and SQLite the migration runs in its transaction all the same.
    operations = [migrations.RunPython(create, drop, atomic=False)]
