"""Mailbox paths: no Dovecot syntax in them and no two alike (mailboxes/paths.py).

Before the constraints are added, rows that would break them are listed and the migration
stops: changing a mailbox's path moves where its mail is read from, which only the operator
can decide (give each its canonical path domain/local/, move the mail, migrate again).
"""

from django.db import migrations, models
from django.db.models import Count, Q

import mailadmin.text
from mailadmin import vendor_indexes

# Created outside Django's model state by mailboxes 0006 on SQLite and PostgreSQL.
PARTIAL_INDEXES = [
    ("mailbox_inactive_by_address", "mailboxes_mailbox", "domain_id, local_part", "NOT active")
]

_UNSAFE = ":% \t\n\r"


def refuse_unsafe_paths(apps, schema_editor):
    Mailbox = apps.get_model("mailboxes", "Mailbox")
    unsafe = Q(path__contains="//")
    for ch in _UNSAFE:
        unsafe |= Q(path__contains=ch)
    bad = [
        f"{local}@{domain}: {path!r}"
        for local, domain, path in Mailbox.objects.filter(unsafe).values_list(
            "local_part", "domain__name", "path"
        )[:50]
    ]
    shared = (
        Mailbox.objects.values("path").annotate(n=Count("id")).filter(n__gt=1).values_list("path")
    )
    bad += [f"{path!r} is the path of several mailboxes" for (path,) in shared[:50]]
    if bad:
        raise RuntimeError(
            "These mailbox paths hold characters Dovecot reads as configuration, or are "
            "shared; give each mailbox its own plain path (domain/local/), move its mail, and "
            "migrate again:\n  " + "\n  ".join(bad)
        )


# The SQLite triggers of domains 0006, as domains/usage_triggers.py wrote them when this
# migration was added (ae16395, the same SQL as 0006 froze); frozen.
SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS domainusage_on_domain_insert",
    "DROP TRIGGER IF EXISTS domainusage_on_mailbox_insert",
    "DROP TRIGGER IF EXISTS domainusage_on_mailbox_update",
    "DROP TRIGGER IF EXISTS domainusage_on_mailbox_delete",
    "DROP TRIGGER IF EXISTS domainusage_on_alias_insert",
    "DROP TRIGGER IF EXISTS domainusage_on_alias_update",
    "DROP TRIGGER IF EXISTS domainusage_on_alias_delete",
]
SQLITE_TRIGGERS = [
    "CREATE TRIGGER domainusage_on_domain_insert AFTER INSERT ON domains_domain FOR EACH ROW BEGIN INSERT INTO domains_domainusage (domain_id, mailboxes, aliases, quota_allocated) VALUES (NEW.id, 0, 0, 0); END",
    "CREATE TRIGGER domainusage_on_mailbox_insert AFTER INSERT ON mailboxes_mailbox FOR EACH ROW BEGIN UPDATE domains_domainusage SET mailboxes = mailboxes + 1, quota_allocated = quota_allocated + NEW.quota WHERE domain_id = NEW.domain_id; END",
    "CREATE TRIGGER domainusage_on_mailbox_update AFTER UPDATE OF domain_id, quota ON mailboxes_mailbox FOR EACH ROW WHEN NEW.domain_id <> OLD.domain_id OR NEW.quota <> OLD.quota BEGIN UPDATE domains_domainusage SET mailboxes = mailboxes + 1, quota_allocated = quota_allocated + NEW.quota WHERE domain_id = NEW.domain_id; UPDATE domains_domainusage SET mailboxes = mailboxes - 1, quota_allocated = quota_allocated - OLD.quota WHERE domain_id = OLD.domain_id; END",
    "CREATE TRIGGER domainusage_on_mailbox_delete AFTER DELETE ON mailboxes_mailbox FOR EACH ROW BEGIN UPDATE domains_domainusage SET mailboxes = mailboxes - 1, quota_allocated = quota_allocated - OLD.quota WHERE domain_id = OLD.domain_id; END",
    "CREATE TRIGGER domainusage_on_alias_insert AFTER INSERT ON mailboxes_alias FOR EACH ROW BEGIN UPDATE domains_domainusage SET aliases = aliases + 1 WHERE domain_id = NEW.domain_id; END",
    "CREATE TRIGGER domainusage_on_alias_update AFTER UPDATE OF domain_id ON mailboxes_alias FOR EACH ROW WHEN NEW.domain_id <> OLD.domain_id BEGIN UPDATE domains_domainusage SET aliases = aliases + 1 WHERE domain_id = NEW.domain_id; UPDATE domains_domainusage SET aliases = aliases - 1 WHERE domain_id = OLD.domain_id; END",
    "CREATE TRIGGER domainusage_on_alias_delete AFTER DELETE ON mailboxes_alias FOR EACH ROW BEGIN UPDATE domains_domainusage SET aliases = aliases - 1 WHERE domain_id = OLD.domain_id; END",
]
# The counts of the rows as they are now. The counter rows survive the rebuild, so they are
# replaced: inserting them again, as usage_triggers.create() did here, failed wherever a domain
# existed (UNIQUE constraint failed: domains_domainusage.domain_id).
RECOUNT = [
    "DELETE FROM domains_domainusage",
    """
    INSERT INTO domains_domainusage (domain_id, mailboxes, aliases, quota_allocated)
    SELECT d.id,
        (SELECT COUNT(*) FROM mailboxes_mailbox m WHERE m.domain_id = d.id),
        (SELECT COUNT(*) FROM mailboxes_alias a WHERE a.domain_id = d.id),
        (SELECT COALESCE(SUM(m.quota), 0) FROM mailboxes_mailbox m WHERE m.domain_id = d.id)
    FROM domains_domain d
""",
]


def restore_after_sqlite_rebuild(apps, schema_editor):
    """SQLite adds a constraint by rebuilding the table, which drops the triggers that keep
    DomainUsage (domains 0006) and the partial index of 0006: make them again, and count the
    rows afresh."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in SQLITE_DROP_TRIGGERS + SQLITE_TRIGGERS + RECOUNT:
        schema_editor.execute(statement)
    vendor_indexes.create_partial(PARTIAL_INDEXES)(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0007_plain_text_descriptions"),
        ("mailboxes", "0007_search_statistics"),
    ]

    operations = [
        # Reversed last: removing the constraints rebuilds the SQLite table again.
        migrations.RunPython(migrations.RunPython.noop, restore_after_sqlite_rebuild),
        migrations.RunPython(refuse_unsafe_paths, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="alias",
            name="description",
            field=models.CharField(
                blank=True,
                max_length=255,
                validators=[mailadmin.text.PlainTextValidator()],
                verbose_name="description",
            ),
        ),
        migrations.AlterField(
            model_name="mailbox",
            name="name",
            field=models.CharField(
                blank=True,
                max_length=255,
                validators=[mailadmin.text.PlainTextValidator()],
                verbose_name="display name",
            ),
        ),
        migrations.AddConstraint(
            model_name="mailbox",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("path__contains", ":"), _negated=True),
                    models.Q(("path__contains", "%"), _negated=True),
                    models.Q(("path__contains", " "), _negated=True),
                    models.Q(("path__contains", "\t"), _negated=True),
                    models.Q(("path__contains", "\n"), _negated=True),
                    models.Q(("path__contains", "\r"), _negated=True),
                    models.Q(("path__contains", "//"), _negated=True),
                ),
                name="mailbox_path_plain",
            ),
        ),
        migrations.AddConstraint(
            model_name="mailbox",
            constraint=models.UniqueConstraint(
                fields=("path",), name="mailbox_path_unique", opclasses=["varchar_pattern_ops"]
            ),
        ),
        migrations.RunPython(restore_after_sqlite_rebuild, migrations.RunPython.noop),
    ]
