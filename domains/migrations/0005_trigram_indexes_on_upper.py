from django.db import migrations

from mailadmin import vendor_indexes

# As mailboxes 0005: a trigram index on the bare name column could answer the lookups'
# `name = $1` in a generic plan. The search is icontains (UPPER(col::text) LIKE), on the name
# and the description, so that PostgreSQL can OR the two index scans.
BARE_COLUMN = [("domain_name_trgm", "domains_domain", "name")]
UPPER_EXPRESSION = [
    ("domain_name_upper_trgm", "domains_domain", "(UPPER(name::text))"),
    ("domain_description_upper_trgm", "domains_domain", "(UPPER(description::text))"),
]


class Migration(migrations.Migration):
    dependencies = [("domains", "0004_domain_name_trigram")]

    operations = [
        migrations.RunPython(
            vendor_indexes.forward(UPPER_EXPRESSION),
            vendor_indexes.backward(UPPER_EXPRESSION),
            elidable=False,
        ),
        migrations.RunPython(
            vendor_indexes.backward(BARE_COLUMN),
            vendor_indexes.forward(BARE_COLUMN),
            elidable=False,
        ),
    ]
