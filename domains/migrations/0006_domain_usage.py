"""Per-domain counters (DomainUsage) kept by database triggers, and two partial indexes.

The triggers keep each domain's mailbox and alias counts and allocated quota equal to its rows,
whoever writes them (domains/usage_triggers.py says why and how, per server): statement-level
with transition tables on PostgreSQL, row-level on MariaDB and SQLite. The counts of existing
rows are filled in after the triggers exist. Backwards drops the triggers (and their
PostgreSQL functions) before the table.

The trigger SQL is frozen here as domains/usage_triggers.py wrote it when this migration was
added (4bc3d0e), so that the migration does the same thing whatever that module says later.
"""

import django.db.models.deletion
from django.db import migrations, models

from mailadmin import vendor_indexes

# The dashboard's "hosted domains without a mailbox" and "inactive domains": a few hundred
# rows each (relay and backup-MX domains have no mailboxes), where a full index would hold
# every domain.
PARTIAL_INDEXES = [
    ("domainusage_without_mailboxes", "domains_domainusage", "domain_id", "mailboxes = 0"),
    ("domain_inactive_by_name", "domains_domain", "name", "NOT active"),
]

# Generated once from usage_triggers.create() and drop() at 4bc3d0e, by connection vendor;
# frozen.
TRIGGERS: dict[str, list[str]] = {
    "postgresql": [
        """
        CREATE OR REPLACE FUNCTION domainusage_on_domain_insert() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            INSERT INTO domains_domainusage (domain_id, mailboxes, aliases, quota_allocated)
            SELECT id, 0, 0, 0 FROM added ON CONFLICT (domain_id) DO NOTHING;
            RETURN NULL;
        END
        $body$
    """,
        "REVOKE ALL ON FUNCTION domainusage_on_domain_insert() FROM PUBLIC",
        "CREATE TRIGGER domainusage_on_domain_insert AFTER INSERT ON domains_domain REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION domainusage_on_domain_insert()",
        """
        CREATE OR REPLACE FUNCTION domainusage_on_mailbox_insert() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
            UPDATE domains_domainusage AS u SET mailboxes = u.mailboxes + c.mailboxes, quota_allocated = u.quota_allocated + c.quota_allocated
            FROM (SELECT domain_id, SUM(mailboxes) AS mailboxes, SUM(quota_allocated) AS quota_allocated FROM (SELECT r.domain_id, 1 AS mailboxes, r.quota AS quota_allocated FROM added r) AS delta
                  GROUP BY domain_id HAVING SUM(mailboxes) <> 0 OR SUM(quota_allocated) <> 0) AS c
            WHERE u.domain_id = c.domain_id;
            RETURN NULL;
        END
        $body$
    """,
        "REVOKE ALL ON FUNCTION domainusage_on_mailbox_insert() FROM PUBLIC",
        "CREATE TRIGGER domainusage_on_mailbox_insert AFTER INSERT ON mailboxes_mailbox REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION domainusage_on_mailbox_insert()",
        """
        CREATE OR REPLACE FUNCTION domainusage_on_mailbox_update() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
            UPDATE domains_domainusage AS u SET mailboxes = u.mailboxes + c.mailboxes, quota_allocated = u.quota_allocated + c.quota_allocated
            FROM (SELECT domain_id, SUM(mailboxes) AS mailboxes, SUM(quota_allocated) AS quota_allocated FROM (SELECT r.domain_id, 1 AS mailboxes, r.quota AS quota_allocated FROM added r UNION ALL SELECT r.domain_id, -(1) AS mailboxes, -(r.quota) AS quota_allocated FROM removed r) AS delta
                  GROUP BY domain_id HAVING SUM(mailboxes) <> 0 OR SUM(quota_allocated) <> 0) AS c
            WHERE u.domain_id = c.domain_id;
            RETURN NULL;
        END
        $body$
    """,
        "REVOKE ALL ON FUNCTION domainusage_on_mailbox_update() FROM PUBLIC",
        "CREATE TRIGGER domainusage_on_mailbox_update AFTER UPDATE ON mailboxes_mailbox REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION domainusage_on_mailbox_update()",
        """
        CREATE OR REPLACE FUNCTION domainusage_on_mailbox_delete() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
            UPDATE domains_domainusage AS u SET mailboxes = u.mailboxes + c.mailboxes, quota_allocated = u.quota_allocated + c.quota_allocated
            FROM (SELECT domain_id, SUM(mailboxes) AS mailboxes, SUM(quota_allocated) AS quota_allocated FROM (SELECT r.domain_id, -(1) AS mailboxes, -(r.quota) AS quota_allocated FROM removed r) AS delta
                  GROUP BY domain_id HAVING SUM(mailboxes) <> 0 OR SUM(quota_allocated) <> 0) AS c
            WHERE u.domain_id = c.domain_id;
            RETURN NULL;
        END
        $body$
    """,
        "REVOKE ALL ON FUNCTION domainusage_on_mailbox_delete() FROM PUBLIC",
        "CREATE TRIGGER domainusage_on_mailbox_delete AFTER DELETE ON mailboxes_mailbox REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION domainusage_on_mailbox_delete()",
        """
        CREATE OR REPLACE FUNCTION domainusage_on_alias_insert() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
            UPDATE domains_domainusage AS u SET aliases = u.aliases + c.aliases
            FROM (SELECT domain_id, SUM(aliases) AS aliases FROM (SELECT r.domain_id, 1 AS aliases FROM added r) AS delta
                  GROUP BY domain_id HAVING SUM(aliases) <> 0) AS c
            WHERE u.domain_id = c.domain_id;
            RETURN NULL;
        END
        $body$
    """,
        "REVOKE ALL ON FUNCTION domainusage_on_alias_insert() FROM PUBLIC",
        "CREATE TRIGGER domainusage_on_alias_insert AFTER INSERT ON mailboxes_alias REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION domainusage_on_alias_insert()",
        """
        CREATE OR REPLACE FUNCTION domainusage_on_alias_update() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
            UPDATE domains_domainusage AS u SET aliases = u.aliases + c.aliases
            FROM (SELECT domain_id, SUM(aliases) AS aliases FROM (SELECT r.domain_id, 1 AS aliases FROM added r UNION ALL SELECT r.domain_id, -(1) AS aliases FROM removed r) AS delta
                  GROUP BY domain_id HAVING SUM(aliases) <> 0) AS c
            WHERE u.domain_id = c.domain_id;
            RETURN NULL;
        END
        $body$
    """,
        "REVOKE ALL ON FUNCTION domainusage_on_alias_update() FROM PUBLIC",
        "CREATE TRIGGER domainusage_on_alias_update AFTER UPDATE ON mailboxes_alias REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION domainusage_on_alias_update()",
        """
        CREATE OR REPLACE FUNCTION domainusage_on_alias_delete() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
            UPDATE domains_domainusage AS u SET aliases = u.aliases + c.aliases
            FROM (SELECT domain_id, SUM(aliases) AS aliases FROM (SELECT r.domain_id, -(1) AS aliases FROM removed r) AS delta
                  GROUP BY domain_id HAVING SUM(aliases) <> 0) AS c
            WHERE u.domain_id = c.domain_id;
            RETURN NULL;
        END
        $body$
    """,
        "REVOKE ALL ON FUNCTION domainusage_on_alias_delete() FROM PUBLIC",
        "CREATE TRIGGER domainusage_on_alias_delete AFTER DELETE ON mailboxes_alias REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION domainusage_on_alias_delete()",
    ],
    "mysql": [
        "CREATE TRIGGER domainusage_on_domain_insert AFTER INSERT ON domains_domain FOR EACH ROW INSERT INTO domains_domainusage (domain_id, mailboxes, aliases, quota_allocated) VALUES (NEW.id, 0, 0, 0)",
        "CREATE TRIGGER domainusage_on_mailbox_insert AFTER INSERT ON mailboxes_mailbox FOR EACH ROW UPDATE domains_domainusage SET mailboxes = mailboxes + 1, quota_allocated = quota_allocated + NEW.quota WHERE domain_id = NEW.domain_id",
        "CREATE TRIGGER domainusage_on_mailbox_update AFTER UPDATE ON mailboxes_mailbox FOR EACH ROW BEGIN IF NEW.domain_id <> OLD.domain_id OR NEW.quota <> OLD.quota THEN UPDATE domains_domainusage SET mailboxes = mailboxes + 1, quota_allocated = quota_allocated + NEW.quota WHERE domain_id = NEW.domain_id; UPDATE domains_domainusage SET mailboxes = mailboxes - 1, quota_allocated = quota_allocated - OLD.quota WHERE domain_id = OLD.domain_id; END IF; END",
        "CREATE TRIGGER domainusage_on_mailbox_delete AFTER DELETE ON mailboxes_mailbox FOR EACH ROW UPDATE domains_domainusage SET mailboxes = mailboxes - 1, quota_allocated = quota_allocated - OLD.quota WHERE domain_id = OLD.domain_id",
        "CREATE TRIGGER domainusage_on_alias_insert AFTER INSERT ON mailboxes_alias FOR EACH ROW UPDATE domains_domainusage SET aliases = aliases + 1 WHERE domain_id = NEW.domain_id",
        "CREATE TRIGGER domainusage_on_alias_update AFTER UPDATE ON mailboxes_alias FOR EACH ROW BEGIN IF NEW.domain_id <> OLD.domain_id THEN UPDATE domains_domainusage SET aliases = aliases + 1 WHERE domain_id = NEW.domain_id; UPDATE domains_domainusage SET aliases = aliases - 1 WHERE domain_id = OLD.domain_id; END IF; END",
        "CREATE TRIGGER domainusage_on_alias_delete AFTER DELETE ON mailboxes_alias FOR EACH ROW UPDATE domains_domainusage SET aliases = aliases - 1 WHERE domain_id = OLD.domain_id",
    ],
    "sqlite": [
        "CREATE TRIGGER domainusage_on_domain_insert AFTER INSERT ON domains_domain FOR EACH ROW BEGIN INSERT INTO domains_domainusage (domain_id, mailboxes, aliases, quota_allocated) VALUES (NEW.id, 0, 0, 0); END",
        "CREATE TRIGGER domainusage_on_mailbox_insert AFTER INSERT ON mailboxes_mailbox FOR EACH ROW BEGIN UPDATE domains_domainusage SET mailboxes = mailboxes + 1, quota_allocated = quota_allocated + NEW.quota WHERE domain_id = NEW.domain_id; END",
        "CREATE TRIGGER domainusage_on_mailbox_update AFTER UPDATE OF domain_id, quota ON mailboxes_mailbox FOR EACH ROW WHEN NEW.domain_id <> OLD.domain_id OR NEW.quota <> OLD.quota BEGIN UPDATE domains_domainusage SET mailboxes = mailboxes + 1, quota_allocated = quota_allocated + NEW.quota WHERE domain_id = NEW.domain_id; UPDATE domains_domainusage SET mailboxes = mailboxes - 1, quota_allocated = quota_allocated - OLD.quota WHERE domain_id = OLD.domain_id; END",
        "CREATE TRIGGER domainusage_on_mailbox_delete AFTER DELETE ON mailboxes_mailbox FOR EACH ROW BEGIN UPDATE domains_domainusage SET mailboxes = mailboxes - 1, quota_allocated = quota_allocated - OLD.quota WHERE domain_id = OLD.domain_id; END",
        "CREATE TRIGGER domainusage_on_alias_insert AFTER INSERT ON mailboxes_alias FOR EACH ROW BEGIN UPDATE domains_domainusage SET aliases = aliases + 1 WHERE domain_id = NEW.domain_id; END",
        "CREATE TRIGGER domainusage_on_alias_update AFTER UPDATE OF domain_id ON mailboxes_alias FOR EACH ROW WHEN NEW.domain_id <> OLD.domain_id BEGIN UPDATE domains_domainusage SET aliases = aliases + 1 WHERE domain_id = NEW.domain_id; UPDATE domains_domainusage SET aliases = aliases - 1 WHERE domain_id = OLD.domain_id; END",
        "CREATE TRIGGER domainusage_on_alias_delete AFTER DELETE ON mailboxes_alias FOR EACH ROW BEGIN UPDATE domains_domainusage SET aliases = aliases - 1 WHERE domain_id = OLD.domain_id; END",
    ],
}

DROP_TRIGGERS: dict[str, list[str]] = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS domainusage_on_domain_insert ON domains_domain",
        "DROP FUNCTION IF EXISTS domainusage_on_domain_insert()",
        "DROP TRIGGER IF EXISTS domainusage_on_mailbox_insert ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS domainusage_on_mailbox_insert()",
        "DROP TRIGGER IF EXISTS domainusage_on_mailbox_update ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS domainusage_on_mailbox_update()",
        "DROP TRIGGER IF EXISTS domainusage_on_mailbox_delete ON mailboxes_mailbox",
        "DROP FUNCTION IF EXISTS domainusage_on_mailbox_delete()",
        "DROP TRIGGER IF EXISTS domainusage_on_alias_insert ON mailboxes_alias",
        "DROP FUNCTION IF EXISTS domainusage_on_alias_insert()",
        "DROP TRIGGER IF EXISTS domainusage_on_alias_update ON mailboxes_alias",
        "DROP FUNCTION IF EXISTS domainusage_on_alias_update()",
        "DROP TRIGGER IF EXISTS domainusage_on_alias_delete ON mailboxes_alias",
        "DROP FUNCTION IF EXISTS domainusage_on_alias_delete()",
    ],
    "mysql": [
        "DROP TRIGGER IF EXISTS domainusage_on_domain_insert",
        "DROP TRIGGER IF EXISTS domainusage_on_mailbox_insert",
        "DROP TRIGGER IF EXISTS domainusage_on_mailbox_update",
        "DROP TRIGGER IF EXISTS domainusage_on_mailbox_delete",
        "DROP TRIGGER IF EXISTS domainusage_on_alias_insert",
        "DROP TRIGGER IF EXISTS domainusage_on_alias_update",
        "DROP TRIGGER IF EXISTS domainusage_on_alias_delete",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS domainusage_on_domain_insert",
        "DROP TRIGGER IF EXISTS domainusage_on_mailbox_insert",
        "DROP TRIGGER IF EXISTS domainusage_on_mailbox_update",
        "DROP TRIGGER IF EXISTS domainusage_on_mailbox_delete",
        "DROP TRIGGER IF EXISTS domainusage_on_alias_insert",
        "DROP TRIGGER IF EXISTS domainusage_on_alias_update",
        "DROP TRIGGER IF EXISTS domainusage_on_alias_delete",
    ],
}

BACKFILL = """
    INSERT INTO domains_domainusage (domain_id, mailboxes, aliases, quota_allocated)
    SELECT d.id,
        (SELECT COUNT(*) FROM mailboxes_mailbox m WHERE m.domain_id = d.id),
        (SELECT COUNT(*) FROM mailboxes_alias a WHERE a.domain_id = d.id),
        (SELECT COALESCE(SUM(m.quota), 0) FROM mailboxes_mailbox m WHERE m.domain_id = d.id)
    FROM domains_domain d
"""


def create_triggers(apps, schema_editor):
    """Triggers first, then the counts: on PostgreSQL creating a trigger blocks writes to its
    table until the migration commits; on MariaDB (DDL commits at once) a row written between
    the two steps finds no counter row to change and is counted by the backfill."""
    for statement in TRIGGERS[schema_editor.connection.vendor]:
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)


def drop_triggers(apps, schema_editor):
    for statement in DROP_TRIGGERS[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0005_trigram_indexes_on_upper"),
        ("mailboxes", "0005_trigram_indexes_on_upper"),
    ]

    operations = [
        migrations.CreateModel(
            name="DomainUsage",
            fields=[
                (
                    "domain",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="usage",
                        serialize=False,
                        to="domains.domain",
                    ),
                ),
                ("mailboxes", models.PositiveIntegerField(default=0)),
                ("aliases", models.PositiveIntegerField(default=0)),
                ("quota_allocated", models.PositiveBigIntegerField(default=0)),
            ],
            options={"verbose_name": "domain usage", "verbose_name_plural": "domain usage"},
        ),
        # atomic=False: MariaDB cannot run DDL inside a transaction; on PostgreSQL and SQLite
        # the whole migration is one transaction anyway.
        migrations.RunPython(create_triggers, drop_triggers, atomic=False, elidable=False),
        migrations.RunPython(
            vendor_indexes.create_partial(PARTIAL_INDEXES),
            vendor_indexes.drop_partial(PARTIAL_INDEXES),
            elidable=False,
        ),
    ]
