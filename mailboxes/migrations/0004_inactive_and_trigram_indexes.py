from django.db import migrations

from mailadmin import vendor_indexes

# What mailboxes.selectors searches: local_part LIKE, name icontains (UPPER(name::text) LIKE).
TRIGRAM_INDEXES = [
    ("mailbox_local_part_trgm", "mailboxes_mailbox", "local_part"),
    ("mailbox_name_upper_trgm", "mailboxes_mailbox", "(UPPER(name::text))"),
    ("alias_local_part_trgm", "mailboxes_alias", "local_part"),
]

# The dashboard's inactive counts (1% of the rows) read only these.
PARTIAL_INDEXES = [
    ("mailbox_inactive_by_domain", "mailboxes_mailbox", "domain_id", "NOT active"),
    ("alias_inactive_by_domain", "mailboxes_alias", "domain_id", "NOT active"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0003_owner_forwarding_limits"),
        ("mailboxes", "0003_drop_domain_fk_indexes"),
    ]

    operations = [
        migrations.RunPython(
            vendor_indexes.create_partial(PARTIAL_INDEXES),
            vendor_indexes.drop_partial(PARTIAL_INDEXES),
            elidable=False,
        ),
        migrations.RunPython(
            vendor_indexes.forward(TRIGRAM_INDEXES),
            vendor_indexes.backward(TRIGRAM_INDEXES),
            elidable=False,
        ),
    ]
