"""Every mailbox's login (its whole address) as one indexed key: MailboxLogin.

Dovecot names a user by the address alone; this row lets its quota usage, the panel's Sieve
script and the owner's language be found in one index probe (mailadmin/contract/login_triggers.py
says why triggers keep it). The rows of existing mailboxes are filled in before the triggers
exist. On SQLite the triggers are made after every migrate instead (sqlite_views.py): a
trigger whose body names domains_domain would fail a later rebuild of that table.

The trigger SQL is frozen here as mailadmin/contract/login_triggers.py wrote it when this migration was
added, so that the migration does the same thing whatever that module says later.
"""

import django.db.models.deletion
from django.db import migrations, models

# Generated once from login_triggers.CREATE, DROP and BACKFILL, by connection vendor; frozen.
CREATE = {
    "mysql": [
        "CREATE TRIGGER mailboxlogin_on_mailbox_insert AFTER INSERT ON mailboxes_mailbox FOR "
        "EACH ROW INSERT INTO mailboxes_mailboxlogin (mailbox_id, username, language) SELECT "
        "NEW.id, CONCAT(NEW.local_part, '@', d.name), '' FROM domains_domain d WHERE d.id = "
        "NEW.domain_id",
        "CREATE TRIGGER mailboxlogin_on_mailbox_update AFTER UPDATE ON mailboxes_mailbox FOR "
        "EACH ROW UPDATE mailboxes_mailboxlogin l JOIN domains_domain d ON d.id = NEW.domain_id "
        "SET l.username = CONCAT(NEW.local_part, '@', d.name) WHERE l.mailbox_id = NEW.id AND "
        "(NEW.local_part <> OLD.local_part OR NEW.domain_id <> OLD.domain_id)",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION mailboxlogin_on_mailbox_insert() RETURNS trigger "
        "LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    INSERT INTO mailboxes_mailboxlogin (mailbox_id, username, language)\n"
        "    SELECT a.id, a.local_part || '@' || d.name, '' FROM added a JOIN "
        "domains_domain d ON d.id = a.domain_id;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$",
        "REVOKE ALL ON FUNCTION mailboxlogin_on_mailbox_insert() FROM PUBLIC",
        "CREATE TRIGGER mailboxlogin_on_mailbox_insert AFTER INSERT ON mailboxes_mailbox "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION "
        "mailboxlogin_on_mailbox_insert()",
        "CREATE OR REPLACE FUNCTION mailboxlogin_on_mailbox_update() RETURNS trigger "
        "LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    UPDATE mailboxes_mailboxlogin l SET username = c.local_part || '@' || d.name\n"
        "      FROM changed c JOIN domains_domain d ON d.id = c.domain_id\n"
        "     WHERE l.mailbox_id = c.id AND l.username <> c.local_part || '@' || d.name;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$",
        "REVOKE ALL ON FUNCTION mailboxlogin_on_mailbox_update() FROM PUBLIC",
        "CREATE TRIGGER mailboxlogin_on_mailbox_update AFTER UPDATE ON mailboxes_mailbox "
        "REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "
        "mailboxlogin_on_mailbox_update()",
    ],
    "sqlite": [
        "CREATE TRIGGER mailboxlogin_on_mailbox_insert AFTER INSERT ON mailboxes_mailbox FOR "
        "EACH ROW BEGIN INSERT INTO mailboxes_mailboxlogin (mailbox_id, username, language) "
        "SELECT NEW.id, NEW.local_part || '@' || d.name, '' FROM domains_domain d WHERE d.id = "
        "NEW.domain_id; END",
        "CREATE TRIGGER mailboxlogin_on_mailbox_update AFTER UPDATE OF local_part, domain_id "
        "ON mailboxes_mailbox FOR EACH ROW WHEN NEW.local_part <> OLD.local_part OR "
        "NEW.domain_id <> OLD.domain_id BEGIN UPDATE mailboxes_mailboxlogin SET username = "
        "NEW.local_part || '@' || (SELECT d.name FROM domains_domain d WHERE d.id = "
        "NEW.domain_id) WHERE mailbox_id = NEW.id; END",
    ],
}
DROP = {
    "mysql": [
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_insert",
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_update",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_insert ON mailboxes_mailbox",
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_update ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS mailboxlogin_on_mailbox_insert()",
        "DROP FUNCTION IF EXISTS mailboxlogin_on_mailbox_update()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_insert",
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_update",
    ],
}
BACKFILL = {
    "mysql": "INSERT INTO mailboxes_mailboxlogin (mailbox_id, username, language) SELECT m.id, "
    "CONCAT(m.local_part, '@', d.name), '' FROM mailboxes_mailbox m JOIN domains_domain d ON "
    "d.id = m.domain_id WHERE NOT EXISTS (SELECT 1 FROM mailboxes_mailboxlogin l WHERE "
    "l.mailbox_id = m.id)",
    "postgresql": "INSERT INTO mailboxes_mailboxlogin (mailbox_id, username, language) SELECT m.id, "
    "m.local_part || '@' || d.name, '' FROM mailboxes_mailbox m JOIN domains_domain d "
    "ON d.id = m.domain_id WHERE NOT EXISTS (SELECT 1 FROM mailboxes_mailboxlogin l "
    "WHERE l.mailbox_id = m.id)",
    "sqlite": "INSERT INTO mailboxes_mailboxlogin (mailbox_id, username, language) SELECT m.id, "
    "m.local_part || '@' || d.name, '' FROM mailboxes_mailbox m JOIN domains_domain d ON "
    "d.id = m.domain_id WHERE NOT EXISTS (SELECT 1 FROM mailboxes_mailboxlogin l WHERE "
    "l.mailbox_id = m.id)",
}


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(BACKFILL[vendor])
    if vendor == "sqlite":
        return  # made after every migrate (mailadmin/contract/sqlite_views.py)
    for statement in CREATE[vendor]:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    for statement in DROP[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    # MariaDB cannot roll DDL back.
    atomic = False

    dependencies = [
        ("mailboxes", "0008_path_rules"),
    ]

    operations = [
        migrations.CreateModel(
            name="MailboxLogin",
            fields=[
                (
                    "mailbox",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="login",
                        serialize=False,
                        to="mailboxes.mailbox",
                    ),
                ),
                ("username", models.CharField(max_length=254, unique=True)),
                ("language", models.CharField(blank=True, default="", max_length=8)),
            ],
            options={
                "verbose_name": "mailbox login",
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
