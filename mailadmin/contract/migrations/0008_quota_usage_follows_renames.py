"""A mailbox's quota usage row follows the mailbox to its new address.

mailadmin_quota_usage is keyed by the address Dovecot knows. When a mailbox's local part or
domain changed (mailboxes_mailboxlogin follows it by trigger), its row kept the old address,
and Dovecot's first write under the new one resolved to the same mailbox: mailbox_id is
unique, so that write and every later one failed. A trigger on mailboxes_mailboxlogin now
renames the row (and drops a row an unknown user's write left under the new address).

The SQL is frozen here as it was written (usage_table.CREATE on the day); SQLite makes its
triggers after every migrate (mailadmin/contract/sqlite_views.py), so nothing runs there.
"""

from django.db import migrations

FORWARD: dict[str, list[str]] = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION quotausage_on_login_rename() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n    DELETE FROM mailadmin_quota_usage WHERE username = NEW.username AND mailbox_id IS DISTINCT FROM NEW.mailbox_id;\n    UPDATE mailadmin_quota_usage SET username = NEW.username WHERE mailbox_id = NEW.mailbox_id;\n    RETURN NULL;\nEND\n$body$",
        "REVOKE ALL ON FUNCTION quotausage_on_login_rename() FROM PUBLIC",
        "CREATE TRIGGER quotausage_on_login_rename AFTER UPDATE OF username ON mailboxes_mailboxlogin FOR EACH ROW WHEN (((new.username)::text IS DISTINCT FROM (old.username)::text)) EXECUTE FUNCTION quotausage_on_login_rename()",
    ],
    "mysql": [
        "CREATE TRIGGER quotausage_on_login_rename AFTER UPDATE ON mailboxes_mailboxlogin FOR EACH ROW BEGIN\n    IF NEW.username <> OLD.username THEN\n        DELETE FROM mailadmin_quota_usage WHERE username = NEW.username AND NOT (mailbox_id <=> NEW.mailbox_id);\n        UPDATE mailadmin_quota_usage SET username = NEW.username WHERE mailbox_id = NEW.mailbox_id;\n    END IF;\nEND",
    ],
}

BACKWARD: dict[str, list[str]] = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS quotausage_on_login_rename ON mailboxes_mailboxlogin",
        "DROP FUNCTION IF EXISTS quotausage_on_login_rename()",
    ],
    "mysql": [
        "DROP TRIGGER IF EXISTS quotausage_on_login_rename",
    ],
}


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    # MariaDB cannot roll DDL back.
    atomic = False

    dependencies = [
        ("contract", "0007_lookup_keys_collation"),
        ("mailboxes", "0010_quota_usage"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
