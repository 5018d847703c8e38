from django.db import migrations

from mailadmin import vendor_indexes

# 0004's (domain_id) WHERE NOT active served the dashboard's inactive counts, but the generic
# plan of check_recipient_access's lookup function (whose view reads only inactive mailboxes)
# chose it too and filtered the local part row by row: every inactive mailbox of the domain
# per lookup, 1,000 rows and 4 ms in the 100,000-mailbox domain (docs/benchmarks.md, L4).
# With the local part in the key the same plan probes one entry, and the counts still read
# only the inactive rows.
BY_DOMAIN = [("mailbox_inactive_by_domain", "mailboxes_mailbox", "domain_id", "NOT active")]
BY_ADDRESS = [
    ("mailbox_inactive_by_address", "mailboxes_mailbox", "domain_id, local_part", "NOT active")
]


class Migration(migrations.Migration):
    dependencies = [("mailboxes", "0005_trigram_indexes_on_upper")]

    operations = [
        migrations.RunPython(
            vendor_indexes.create_partial(BY_ADDRESS),
            vendor_indexes.drop_partial(BY_ADDRESS),
            elidable=False,
        ),
        migrations.RunPython(
            vendor_indexes.drop_partial(BY_DOMAIN),
            vendor_indexes.create_partial(BY_DOMAIN),
            elidable=False,
        ),
    ]
