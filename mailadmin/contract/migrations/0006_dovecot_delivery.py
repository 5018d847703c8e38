"""Dovecot delivers: quota usage written back, the panel's Sieve scripts, the owner's language.

- mailadmin_quota_usage (new table): Dovecot's quota_clone writes each user's used bytes and
  messages; triggers add the mailbox, its domain and the share of its quota, and remove the
  row with its mailbox
  (mailadmin/contract/usage_table.py). The only table a mail-stack role may write: run
  roles.sql again after this migration (docs/operators.md).
- mailadmin_dovecot_sieve (new view): the panel's Sieve script of every mailbox, for
  Pigeonhole's dict storage, the default script where the owner changed nothing.
- mailadmin_dovecot_owner (new view): the owner's language, for quota warnings.

The SQL is frozen here as it was written, so that this migration does the same thing
whatever views_v1.py and usage_table.py say later. SQLite creates its views after every
migrate (mailadmin/contract/sqlite_views.py), and the table's triggers with them; the
table is made here.
"""

from django.db import migrations

# Generated once from usage_table.CREATE/DROP and views_v1.create_sql(); frozen.
FORWARD: dict[str, list[str]] = {
    "mysql": [
        "CREATE TABLE mailadmin_quota_usage (\n"
        "    username varchar(254) NOT NULL PRIMARY KEY,\n"
        "    bytes bigint NOT NULL DEFAULT 0,\n"
        "    messages bigint NOT NULL DEFAULT 0,\n"
        "    mailbox_id bigint NULL UNIQUE,\n"
        "    domain_id bigint NULL,\n"
        "    permille integer NULL,\n"
        "    updated_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),\n"
        "    KEY quota_usage_by_domain (domain_id, bytes),\n"
        "    KEY quota_usage_by_permille (permille)\n"
        ")",
        "CREATE TRIGGER quotausage_on_insert BEFORE INSERT ON mailadmin_quota_usage FOR EACH "
        "ROW BEGIN\n"
        "    DECLARE found_id BIGINT DEFAULT NULL;\n"
        "    DECLARE found_domain BIGINT DEFAULT NULL;\n"
        "    DECLARE found_quota BIGINT DEFAULT NULL;\n"
        "    SELECT m.id, m.domain_id, m.quota INTO found_id, found_domain, found_quota\n"
        "      FROM mailboxes_mailboxlogin l JOIN mailboxes_mailbox m ON m.id = l.mailbox_id\n"
        "     WHERE l.username = NEW.username;\n"
        "    SET NEW.mailbox_id = found_id, NEW.domain_id = found_domain,\n"
        "        NEW.permille = CASE WHEN found_quota > 0 THEN LEAST(NEW.bytes * 1000 DIV "
        "found_quota, 1000000) END,\n"
        "        NEW.updated_at = CURRENT_TIMESTAMP(6);\n"
        "END",
        "CREATE TRIGGER quotausage_on_update BEFORE UPDATE ON mailadmin_quota_usage FOR EACH "
        "ROW BEGIN\n"
        "    DECLARE found_id BIGINT DEFAULT NULL;\n"
        "    DECLARE found_domain BIGINT DEFAULT NULL;\n"
        "    DECLARE found_quota BIGINT DEFAULT NULL;\n"
        "    SELECT m.id, m.domain_id, m.quota INTO found_id, found_domain, found_quota\n"
        "      FROM mailboxes_mailboxlogin l JOIN mailboxes_mailbox m ON m.id = l.mailbox_id\n"
        "     WHERE l.username = NEW.username;\n"
        "    SET NEW.mailbox_id = found_id, NEW.domain_id = found_domain,\n"
        "        NEW.permille = CASE WHEN found_quota > 0 THEN LEAST(NEW.bytes * 1000 DIV "
        "found_quota, 1000000) END,\n"
        "        NEW.updated_at = CURRENT_TIMESTAMP(6);\n"
        "END",
        "CREATE TRIGGER quotausage_on_quota AFTER UPDATE ON mailboxes_mailbox FOR EACH ROW "
        "UPDATE mailadmin_quota_usage SET permille = CASE WHEN NEW.quota > 0 THEN LEAST(bytes * "
        "1000 DIV NEW.quota, 1000000) END WHERE mailbox_id = NEW.id AND NEW.quota <> OLD.quota",
        "CREATE TRIGGER quotausage_on_mailbox_delete AFTER DELETE ON mailboxes_mailbox FOR EACH "
        "ROW DELETE FROM mailadmin_quota_usage WHERE mailbox_id = OLD.id",
        "CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_dovecot_sieve AS\n"
        "SELECT l.username AS username, 'panel' AS name,\n"
        "       COALESCE(s.data_id, 'default-1') AS data_id,\n"
        '       COALESCE(s.script, \'require ["fileinto", "mailbox"];\n'
        "# Spam-flagged mail goes to Junk (SpamAssassin: X-Spam-Flag, rspamd: X-Spam).\n"
        'if anyof (header :is "X-Spam-Flag" "YES", header :is "X-Spam" "Yes") {\n'
        '  fileinto :create "Junk";\n'
        "}\n"
        "') AS script\n"
        "  FROM mailboxes_mailboxlogin l\n"
        "  LEFT JOIN sieve_sievescript s ON s.mailbox_id = l.mailbox_id",
        "CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_dovecot_owner AS\n"
        "SELECT l.username AS username, l.language AS language\n"
        "  FROM mailboxes_mailboxlogin l",
    ],
    "postgresql": [
        "CREATE TABLE mailadmin_quota_usage (\n"
        "    username varchar(254) NOT NULL PRIMARY KEY,\n"
        "    bytes bigint NOT NULL DEFAULT 0,\n"
        "    messages bigint NOT NULL DEFAULT 0,\n"
        "    mailbox_id bigint NULL UNIQUE,\n"
        "    domain_id bigint NULL,\n"
        "    permille integer NULL,\n"
        "    updated_at timestamp with time zone NOT NULL DEFAULT now()\n"
        ")",
        "CREATE INDEX quota_usage_by_domain ON mailadmin_quota_usage (domain_id, bytes)",
        "CREATE INDEX quota_usage_by_permille ON mailadmin_quota_usage (permille)",
        "CREATE OR REPLACE FUNCTION quotausage_resolve() RETURNS trigger LANGUAGE plpgsql "
        "SECURITY DEFINER SET search_path = public AS $body$\n"
        "BEGIN\n"
        "    SELECT m.id, m.domain_id, CASE WHEN m.quota > 0 THEN LEAST(NEW.bytes * 1000 / "
        "m.quota, 1000000) END\n"
        "      INTO NEW.mailbox_id, NEW.domain_id, NEW.permille\n"
        "      FROM mailboxes_mailboxlogin l JOIN mailboxes_mailbox m ON m.id = "
        "l.mailbox_id\n"
        "     WHERE l.username = NEW.username;\n"
        "    NEW.updated_at := now();\n"
        "    RETURN NEW;\n"
        "END\n"
        "$body$",
        "REVOKE ALL ON FUNCTION quotausage_resolve() FROM PUBLIC",
        "CREATE TRIGGER quotausage_resolve BEFORE INSERT OR UPDATE ON "
        "mailadmin_quota_usage FOR EACH ROW EXECUTE FUNCTION quotausage_resolve()",
        "CREATE OR REPLACE FUNCTION quotausage_on_quota() RETURNS trigger LANGUAGE plpgsql "
        "AS $body$\n"
        "BEGIN\n"
        "    UPDATE mailadmin_quota_usage SET permille = CASE WHEN NEW.quota > 0 THEN "
        "LEAST(bytes * 1000 / NEW.quota, 1000000) END\n"
        "     WHERE mailbox_id = NEW.id;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$",
        "REVOKE ALL ON FUNCTION quotausage_on_quota() FROM PUBLIC",
        "CREATE TRIGGER quotausage_on_quota AFTER UPDATE OF quota ON mailboxes_mailbox FOR "
        "EACH ROW WHEN ((new.quota IS DISTINCT FROM old.quota)) EXECUTE FUNCTION "
        "quotausage_on_quota()",
        "CREATE OR REPLACE FUNCTION quotausage_on_mailbox_delete() RETURNS trigger "
        "LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    DELETE FROM mailadmin_quota_usage u USING removed r WHERE u.mailbox_id = "
        "r.id;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$",
        "REVOKE ALL ON FUNCTION quotausage_on_mailbox_delete() FROM PUBLIC",
        "CREATE TRIGGER quotausage_on_mailbox_delete AFTER DELETE ON mailboxes_mailbox "
        "REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION "
        "quotausage_on_mailbox_delete()",
        "CREATE OR REPLACE FUNCTION quotausage_on_mailbox_truncate() RETURNS trigger "
        "LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "    TRUNCATE mailadmin_quota_usage;\n"
        "    RETURN NULL;\n"
        "END\n"
        "$body$",
        "REVOKE ALL ON FUNCTION quotausage_on_mailbox_truncate() FROM PUBLIC",
        "CREATE TRIGGER quotausage_on_mailbox_truncate AFTER TRUNCATE ON mailboxes_mailbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION quotausage_on_mailbox_truncate()",
        "CREATE OR REPLACE VIEW mailadmin_dovecot_sieve AS\n"
        "SELECT l.username AS username, 'panel' AS name,\n"
        "       COALESCE(s.data_id, 'default-1') AS data_id,\n"
        '       COALESCE(s.script, \'require ["fileinto", "mailbox"];\n'
        "# Spam-flagged mail goes to Junk (SpamAssassin: X-Spam-Flag, rspamd: X-Spam).\n"
        'if anyof (header :is "X-Spam-Flag" "YES", header :is "X-Spam" "Yes") {\n'
        '  fileinto :create "Junk";\n'
        "}\n"
        "') AS script\n"
        "  FROM mailboxes_mailboxlogin l\n"
        "  LEFT JOIN sieve_sievescript s ON s.mailbox_id = l.mailbox_id",
        "CREATE OR REPLACE VIEW mailadmin_dovecot_owner AS\n"
        "SELECT l.username AS username, l.language AS language\n"
        "  FROM mailboxes_mailboxlogin l",
    ],
}
BACKWARD: dict[str, list[str]] = {
    "mysql": [
        "DROP VIEW IF EXISTS mailadmin_dovecot_owner",
        "DROP VIEW IF EXISTS mailadmin_dovecot_sieve",
        "DROP TRIGGER IF EXISTS quotausage_on_quota",
        "DROP TRIGGER IF EXISTS quotausage_on_mailbox_delete",
        "DROP TABLE IF EXISTS mailadmin_quota_usage",
    ],
    "postgresql": [
        "DROP VIEW IF EXISTS mailadmin_dovecot_owner",
        "DROP VIEW IF EXISTS mailadmin_dovecot_sieve",
        "DROP TRIGGER IF EXISTS quotausage_on_quota ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS quotausage_on_quota()",
        "DROP TRIGGER IF EXISTS quotausage_on_mailbox_delete ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS quotausage_on_mailbox_delete()",
        "DROP TRIGGER IF EXISTS quotausage_on_mailbox_truncate ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS quotausage_on_mailbox_truncate()",
        "DROP TABLE IF EXISTS mailadmin_quota_usage",
        "DROP FUNCTION IF EXISTS quotausage_resolve()",
    ],
}
SQLITE_FORWARD: list[str] = [
    "CREATE TABLE mailadmin_quota_usage (\n"
    "    username varchar(254) NOT NULL PRIMARY KEY,\n"
    "    bytes integer NOT NULL DEFAULT 0,\n"
    "    messages integer NOT NULL DEFAULT 0,\n"
    "    mailbox_id integer NULL UNIQUE,\n"
    "    domain_id integer NULL,\n"
    "    permille integer NULL,\n"
    "    updated_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP\n"
    ")",
    "CREATE INDEX quota_usage_by_domain ON mailadmin_quota_usage (domain_id, bytes)",
    "CREATE INDEX quota_usage_by_permille ON mailadmin_quota_usage (permille)",
]
SQLITE_BACKWARD: list[str] = [
    "DROP TRIGGER IF EXISTS quotausage_on_quota",
    "DROP TRIGGER IF EXISTS quotausage_on_mailbox_delete",
    "DROP TABLE IF EXISTS mailadmin_quota_usage",
]


def _run(statements: dict[str, list[str]], sqlite: list[str]):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in sqlite if vendor == "sqlite" else statements[vendor]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    # MariaDB cannot roll DDL back.
    atomic = False

    dependencies = [
        ("contract", "0005_domain_states"),
        ("mailboxes", "0009_mailbox_login"),
        ("sieve", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD, SQLITE_FORWARD), _run(BACKWARD, SQLITE_BACKWARD))
    ]
