"""The triggers that give every mailbox its MailboxLogin row (models.MailboxLogin).

Triggers rather than service code, for the reason domains/usage_triggers.py gives: imports,
restores, the PostfixAdmin migration and the benchmark seeder write mailboxes in bulk, and a
key that only the services kept would miss their rows. Dovecot finds a user's quota usage,
Sieve script and language by this key; a missing row would be a mailbox without its default
Sieve script.

- PostgreSQL: statement-level, with transition tables (one INSERT ... SELECT for a bulk
  insert of a million mailboxes).
- MariaDB and SQLite: row-level.

Rows go with their mailbox (Django deletes the OneToOne row before the mailbox). SQLite
drops a table's triggers when Django rebuilds it: sqlite_views.py makes these again after
every migrate.
"""

from __future__ import annotations

LOGIN = "mailboxes_mailboxlogin"
_ADDRESS = {
    "postgresql": "{row}.local_part || '@' || d.name",
    "sqlite": "{row}.local_part || '@' || d.name",
    "mysql": "CONCAT({row}.local_part, '@', d.name)",
}

CREATE: dict[str, list[str]] = {
    "postgresql": [
        f"""CREATE OR REPLACE FUNCTION mailboxlogin_on_mailbox_insert() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO {LOGIN} (mailbox_id, username, language)
    SELECT a.id, a.local_part || '@' || d.name, '' FROM added a JOIN domains_domain d ON d.id = a.domain_id;
    RETURN NULL;
END
$body$""",
        "REVOKE ALL ON FUNCTION mailboxlogin_on_mailbox_insert() FROM PUBLIC",
        "CREATE TRIGGER mailboxlogin_on_mailbox_insert AFTER INSERT ON mailboxes_mailbox REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION mailboxlogin_on_mailbox_insert()",
        f"""CREATE OR REPLACE FUNCTION mailboxlogin_on_mailbox_update() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    UPDATE {LOGIN} l SET username = c.local_part || '@' || d.name
      FROM changed c JOIN domains_domain d ON d.id = c.domain_id
     WHERE l.mailbox_id = c.id AND l.username <> c.local_part || '@' || d.name;
    RETURN NULL;
END
$body$""",
        "REVOKE ALL ON FUNCTION mailboxlogin_on_mailbox_update() FROM PUBLIC",
        "CREATE TRIGGER mailboxlogin_on_mailbox_update AFTER UPDATE ON mailboxes_mailbox REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION mailboxlogin_on_mailbox_update()",
    ],
    "mysql": [
        f"CREATE TRIGGER mailboxlogin_on_mailbox_insert AFTER INSERT ON mailboxes_mailbox FOR EACH ROW INSERT INTO {LOGIN} (mailbox_id, username, language) SELECT NEW.id, CONCAT(NEW.local_part, '@', d.name), '' FROM domains_domain d WHERE d.id = NEW.domain_id",
        f"CREATE TRIGGER mailboxlogin_on_mailbox_update AFTER UPDATE ON mailboxes_mailbox FOR EACH ROW UPDATE {LOGIN} l JOIN domains_domain d ON d.id = NEW.domain_id SET l.username = CONCAT(NEW.local_part, '@', d.name) WHERE l.mailbox_id = NEW.id AND (NEW.local_part <> OLD.local_part OR NEW.domain_id <> OLD.domain_id)",
    ],
    "sqlite": [
        f"CREATE TRIGGER mailboxlogin_on_mailbox_insert AFTER INSERT ON mailboxes_mailbox FOR EACH ROW BEGIN INSERT INTO {LOGIN} (mailbox_id, username, language) SELECT NEW.id, NEW.local_part || '@' || d.name, '' FROM domains_domain d WHERE d.id = NEW.domain_id; END",
        f"CREATE TRIGGER mailboxlogin_on_mailbox_update AFTER UPDATE OF local_part, domain_id ON mailboxes_mailbox FOR EACH ROW WHEN NEW.local_part <> OLD.local_part OR NEW.domain_id <> OLD.domain_id BEGIN UPDATE {LOGIN} SET username = NEW.local_part || '@' || (SELECT d.name FROM domains_domain d WHERE d.id = NEW.domain_id) WHERE mailbox_id = NEW.id; END",
    ],
}

DROP: dict[str, list[str]] = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_insert ON mailboxes_mailbox",
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_update ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS mailboxlogin_on_mailbox_insert()",
        "DROP FUNCTION IF EXISTS mailboxlogin_on_mailbox_update()",
    ],
    "mysql": [
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_insert",
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_update",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_insert",
        "DROP TRIGGER IF EXISTS mailboxlogin_on_mailbox_update",
    ],
}

BACKFILL = {
    vendor: f"INSERT INTO {LOGIN} (mailbox_id, username, language) SELECT m.id, "
    + address.format(row="m")
    + ", '' FROM mailboxes_mailbox m JOIN domains_domain d ON d.id = m.domain_id"
    f" WHERE NOT EXISTS (SELECT 1 FROM {LOGIN} l WHERE l.mailbox_id = m.id)"
    for vendor, address in _ADDRESS.items()
}

# Mailboxes whose login row is missing or names another address (empty while the triggers
# hold).
DRIFT = {
    vendor: "SELECT m.id FROM mailboxes_mailbox m JOIN domains_domain d ON d.id = m.domain_id"
    f" LEFT JOIN {LOGIN} l ON l.mailbox_id = m.id"
    " WHERE l.mailbox_id IS NULL OR l.username <> " + address.format(row="m")
    for vendor, address in _ADDRESS.items()
}
