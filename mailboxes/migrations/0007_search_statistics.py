from django.db import migrations

from mailadmin import vendor_indexes

# The icontains searches within a domain have two good plans: walk the domain's
# (domain_id, local_part) index in order and stop after a page of matches (best for a common
# term), or ask the trigram indexes (best for a rare one). PostgreSQL picks by its estimate of
# how many rows match '%TERM%', taken from the sampled statistics of these expressions; with
# the default sample the estimate for one surname at 1M mailboxes came out anywhere from 20
# to 3,100 rows (2,520 true) from one ANALYZE to the next, and the low ones chose the trigram
# plan at 20 ms instead of the ordered walk at 1 ms (docs/benchmarks.md, P8). A ten times
# larger sample keeps the estimate within a factor of about two.
SEARCHED = [
    "mailbox_local_part_upper_trgm",
    "mailbox_name_upper_trgm",
    "alias_local_part_upper_trgm",
]
STATISTICS = 1000


class Migration(migrations.Migration):
    dependencies = [("mailboxes", "0006_inactive_index_by_address")]

    operations = [
        migrations.RunPython(
            vendor_indexes.statistics_target(SEARCHED, STATISTICS),
            vendor_indexes.statistics_target(SEARCHED, -1),
            elidable=False,
        )
    ]
