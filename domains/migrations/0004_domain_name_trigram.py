from django.db import migrations

from mailadmin import vendor_indexes

# What domains.selectors searches: name LIKE '%term%' (name::text).
TRIGRAM_INDEXES = [("domain_name_trgm", "domains_domain", "name")]


class Migration(migrations.Migration):
    dependencies = [("domains", "0003_owner_forwarding_limits")]

    operations = [
        migrations.RunPython(
            vendor_indexes.forward(TRIGRAM_INDEXES),
            vendor_indexes.backward(TRIGRAM_INDEXES),
            elidable=False,
        ),
    ]
