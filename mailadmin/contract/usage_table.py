"""mailadmin_quota_usage: the used bytes and messages Dovecot writes back, per mailbox.

Dovecot's quota_clone plugin copies a user's quota usage to a dict after every change (a
delivery, an expunge); the dict is SQL (dovecot_delivery.dict_sql_conf), so the panel reads
the figures from its own database with no call to the mail host. Dovecot knows a user by the
address alone and writes only username, bytes and messages; triggers fill in, with the rights
of the table's owner, what the panel's lists need to find and sort the rows in one index:

- mailbox_id and domain_id, looked up through mailboxes_mailboxlogin (one probe);
- permille: bytes per thousand of the mailbox's quota (NULL without a quota), also when the
  quota changes, so that "nearly full" is a range of one index at any size.

They run on every insert and update, so these columns always say what the tables say,
whatever a writer set; the Dovecot role may write only username, bytes and messages anyway
(roles.py).

A mailbox whose address changes keeps its row, renamed to the new address (a trigger on
mailboxes_mailboxlogin, which login_triggers.py keeps). The row of a deleted mailbox goes with it (a trigger on mailboxes_mailbox, and on PostgreSQL
one for TRUNCATE too: a foreign key would make Django's flush refuse to truncate the
mailboxes); Dovecot writes a new one for a new mailbox of the same address. This is the one table a mail-stack role may write (roles.py):
the Dovecot role may SELECT, INSERT and UPDATE it, nothing else.

The SQL here is what a fresh migrate makes; contract migration 0006 carries its own copy.
"""

from __future__ import annotations

TABLE = "mailadmin_quota_usage"
# A mailbox far over its quota (after the quota was lowered) stays a finite number.
_CAP = 1000000

_RESOLVE_PG = f"""CREATE OR REPLACE FUNCTION quotausage_resolve() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $body$
BEGIN
    SELECT m.id, m.domain_id, CASE WHEN m.quota > 0 THEN LEAST(NEW.bytes * 1000 / m.quota, {_CAP}) END
      INTO NEW.mailbox_id, NEW.domain_id, NEW.permille
      FROM mailboxes_mailboxlogin l JOIN mailboxes_mailbox m ON m.id = l.mailbox_id
     WHERE l.username = NEW.username;
    NEW.updated_at := now();
    RETURN NEW;
END
$body$"""

_ON_QUOTA_PG = f"""CREATE OR REPLACE FUNCTION quotausage_on_quota() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    UPDATE {TABLE} SET permille = CASE WHEN NEW.quota > 0 THEN LEAST(bytes * 1000 / NEW.quota, {_CAP}) END
     WHERE mailbox_id = NEW.id;
    RETURN NULL;
END
$body$"""

_ON_DELETE_PG = f"""CREATE OR REPLACE FUNCTION quotausage_on_mailbox_delete() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    DELETE FROM {TABLE} u USING removed r WHERE u.mailbox_id = r.id;
    RETURN NULL;
END
$body$"""

_ON_TRUNCATE_PG = f"""CREATE OR REPLACE FUNCTION quotausage_on_mailbox_truncate() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    TRUNCATE {TABLE};
    RETURN NULL;
END
$body$"""

# A mailbox's new address (local part or domain changed, mailboxes_mailboxlogin follows): its
# row follows too, under the name Dovecot will use now. Without it Dovecot's first write
# under the new name would resolve to the same mailbox, and mailbox_id is unique: quota_clone
# would fail for that user from then on. A row left under the new name by a write for an
# unknown user (mailbox_id NULL) gives way.
_ON_RENAME_PG = f"""CREATE OR REPLACE FUNCTION quotausage_on_login_rename() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    DELETE FROM {TABLE} WHERE username = NEW.username AND mailbox_id IS DISTINCT FROM NEW.mailbox_id;
    UPDATE {TABLE} SET username = NEW.username WHERE mailbox_id = NEW.mailbox_id;
    RETURN NULL;
END
$body$"""

_MYSQL_RESOLVE_BODY = f"""BEGIN
    DECLARE found_id BIGINT DEFAULT NULL;
    DECLARE found_domain BIGINT DEFAULT NULL;
    DECLARE found_quota BIGINT DEFAULT NULL;
    SELECT m.id, m.domain_id, m.quota INTO found_id, found_domain, found_quota
      FROM mailboxes_mailboxlogin l JOIN mailboxes_mailbox m ON m.id = l.mailbox_id
     WHERE l.username = NEW.username;
    SET NEW.mailbox_id = found_id, NEW.domain_id = found_domain,
        NEW.permille = CASE WHEN found_quota > 0 THEN LEAST(NEW.bytes * 1000 DIV found_quota, {_CAP}) END,
        NEW.updated_at = CURRENT_TIMESTAMP(6);
END"""

_SQLITE_RESOLVE_BODY = f"""BEGIN
    UPDATE {TABLE} SET
        mailbox_id = (SELECT l.mailbox_id FROM mailboxes_mailboxlogin l WHERE l.username = NEW.username),
        domain_id = (SELECT m.domain_id FROM mailboxes_mailboxlogin l JOIN mailboxes_mailbox m ON m.id = l.mailbox_id WHERE l.username = NEW.username),
        permille = (SELECT CASE WHEN m.quota > 0 THEN MIN(NEW.bytes * 1000 / m.quota, {_CAP}) END FROM mailboxes_mailboxlogin l JOIN mailboxes_mailbox m ON m.id = l.mailbox_id WHERE l.username = NEW.username),
        updated_at = CURRENT_TIMESTAMP
     WHERE username = NEW.username;
END"""

CREATE: dict[str, list[str]] = {
    "postgresql": [
        f"""CREATE TABLE {TABLE} (
    username varchar(254) NOT NULL PRIMARY KEY,
    bytes bigint NOT NULL DEFAULT 0,
    messages bigint NOT NULL DEFAULT 0,
    mailbox_id bigint NULL UNIQUE,
    domain_id bigint NULL,
    permille integer NULL,
    updated_at timestamp with time zone NOT NULL DEFAULT now()
)""",
        f"CREATE INDEX quota_usage_by_domain ON {TABLE} (domain_id, bytes)",
        f"CREATE INDEX quota_usage_by_permille ON {TABLE} (permille)",
        _RESOLVE_PG,
        "REVOKE ALL ON FUNCTION quotausage_resolve() FROM PUBLIC",
        f"CREATE TRIGGER quotausage_resolve BEFORE INSERT OR UPDATE ON {TABLE} FOR EACH ROW EXECUTE FUNCTION quotausage_resolve()",
        _ON_QUOTA_PG,
        "REVOKE ALL ON FUNCTION quotausage_on_quota() FROM PUBLIC",
        "CREATE TRIGGER quotausage_on_quota AFTER UPDATE OF quota ON mailboxes_mailbox FOR EACH ROW WHEN ((new.quota IS DISTINCT FROM old.quota)) EXECUTE FUNCTION quotausage_on_quota()",
        _ON_DELETE_PG,
        "REVOKE ALL ON FUNCTION quotausage_on_mailbox_delete() FROM PUBLIC",
        "CREATE TRIGGER quotausage_on_mailbox_delete AFTER DELETE ON mailboxes_mailbox REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION quotausage_on_mailbox_delete()",
        _ON_TRUNCATE_PG,
        "REVOKE ALL ON FUNCTION quotausage_on_mailbox_truncate() FROM PUBLIC",
        "CREATE TRIGGER quotausage_on_mailbox_truncate AFTER TRUNCATE ON mailboxes_mailbox FOR EACH STATEMENT EXECUTE FUNCTION quotausage_on_mailbox_truncate()",
        _ON_RENAME_PG,
        "REVOKE ALL ON FUNCTION quotausage_on_login_rename() FROM PUBLIC",
        "CREATE TRIGGER quotausage_on_login_rename AFTER UPDATE OF username ON mailboxes_mailboxlogin FOR EACH ROW WHEN (((new.username)::text IS DISTINCT FROM (old.username)::text)) EXECUTE FUNCTION quotausage_on_login_rename()",
    ],
    "mysql": [
        f"""CREATE TABLE {TABLE} (
    username varchar(254) NOT NULL PRIMARY KEY,
    bytes bigint NOT NULL DEFAULT 0,
    messages bigint NOT NULL DEFAULT 0,
    mailbox_id bigint NULL UNIQUE,
    domain_id bigint NULL,
    permille integer NULL,
    updated_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    KEY quota_usage_by_domain (domain_id, bytes),
    KEY quota_usage_by_permille (permille)
)""",
        f"CREATE TRIGGER quotausage_on_insert BEFORE INSERT ON {TABLE} FOR EACH ROW {_MYSQL_RESOLVE_BODY}",
        f"CREATE TRIGGER quotausage_on_update BEFORE UPDATE ON {TABLE} FOR EACH ROW {_MYSQL_RESOLVE_BODY}",
        f"CREATE TRIGGER quotausage_on_quota AFTER UPDATE ON mailboxes_mailbox FOR EACH ROW UPDATE {TABLE} SET permille = CASE WHEN NEW.quota > 0 THEN LEAST(bytes * 1000 DIV NEW.quota, {_CAP}) END WHERE mailbox_id = NEW.id AND NEW.quota <> OLD.quota",
        f"CREATE TRIGGER quotausage_on_mailbox_delete AFTER DELETE ON mailboxes_mailbox FOR EACH ROW DELETE FROM {TABLE} WHERE mailbox_id = OLD.id",
        f"CREATE TRIGGER quotausage_on_login_rename AFTER UPDATE ON mailboxes_mailboxlogin FOR EACH ROW BEGIN\n    IF NEW.username <> OLD.username THEN\n        DELETE FROM {TABLE} WHERE username = NEW.username AND NOT (mailbox_id <=> NEW.mailbox_id);\n        UPDATE {TABLE} SET username = NEW.username WHERE mailbox_id = NEW.mailbox_id;\n    END IF;\nEND",
    ],
    "sqlite": [
        f"""CREATE TABLE {TABLE} (
    username varchar(254) NOT NULL PRIMARY KEY,
    bytes integer NOT NULL DEFAULT 0,
    messages integer NOT NULL DEFAULT 0,
    mailbox_id integer NULL UNIQUE,
    domain_id integer NULL,
    permille integer NULL,
    updated_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
)""",
        f"CREATE INDEX quota_usage_by_domain ON {TABLE} (domain_id, bytes)",
        f"CREATE INDEX quota_usage_by_permille ON {TABLE} (permille)",
        f"CREATE TRIGGER quotausage_on_insert AFTER INSERT ON {TABLE} FOR EACH ROW {_SQLITE_RESOLVE_BODY}",
        f"CREATE TRIGGER quotausage_on_update AFTER UPDATE OF bytes, messages ON {TABLE} FOR EACH ROW {_SQLITE_RESOLVE_BODY}",
        f"CREATE TRIGGER quotausage_on_quota AFTER UPDATE OF quota ON mailboxes_mailbox FOR EACH ROW WHEN NEW.quota <> OLD.quota BEGIN UPDATE {TABLE} SET permille = CASE WHEN NEW.quota > 0 THEN MIN(bytes * 1000 / NEW.quota, {_CAP}) END WHERE mailbox_id = NEW.id; END",
        f"CREATE TRIGGER quotausage_on_mailbox_delete AFTER DELETE ON mailboxes_mailbox FOR EACH ROW BEGIN DELETE FROM {TABLE} WHERE mailbox_id = OLD.id; END",
        f"CREATE TRIGGER quotausage_on_login_rename AFTER UPDATE OF username ON mailboxes_mailboxlogin FOR EACH ROW WHEN NEW.username <> OLD.username BEGIN DELETE FROM {TABLE} WHERE username = NEW.username AND mailbox_id IS NOT NEW.mailbox_id; UPDATE {TABLE} SET username = NEW.username WHERE mailbox_id = NEW.mailbox_id; END",
    ],
}

DROP: dict[str, list[str]] = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS quotausage_on_quota ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS quotausage_on_quota()",
        "DROP TRIGGER IF EXISTS quotausage_on_mailbox_delete ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS quotausage_on_mailbox_delete()",
        "DROP TRIGGER IF EXISTS quotausage_on_mailbox_truncate ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS quotausage_on_mailbox_truncate()",
        "DROP TRIGGER IF EXISTS quotausage_on_login_rename ON mailboxes_mailboxlogin",
        "DROP FUNCTION IF EXISTS quotausage_on_login_rename()",
        f"DROP TABLE IF EXISTS {TABLE}",
        "DROP FUNCTION IF EXISTS quotausage_resolve()",
    ],
    "mysql": [
        "DROP TRIGGER IF EXISTS quotausage_on_quota",
        "DROP TRIGGER IF EXISTS quotausage_on_mailbox_delete",
        "DROP TRIGGER IF EXISTS quotausage_on_login_rename",
        f"DROP TABLE IF EXISTS {TABLE}",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS quotausage_on_quota",
        "DROP TRIGGER IF EXISTS quotausage_on_mailbox_delete",
        "DROP TRIGGER IF EXISTS quotausage_on_login_rename",
        f"DROP TABLE IF EXISTS {TABLE}",
    ],
}
