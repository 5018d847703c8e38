"""After a committed import: fresh planner statistics for the tables it filled."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection, transaction

from domains.models import AliasDomain, Domain, DomainUsage, RelayRecipient
from mailboxes.models import Alias, AliasDestination, Mailbox, MailboxLogin

log = logging.getLogger(__name__)

# The tables an import fills, whose planner statistics analyze_tables refreshes; the last two
# are filled by triggers (mailbox logins, which Dovecot's lookups read, and the domains' counts).
ANALYZED = (
    Domain,
    AliasDomain,
    RelayRecipient,
    Mailbox,
    Alias,
    AliasDestination,
    MailboxLogin,
    DomainUsage,
)


def analyze_tables() -> None:
    """Refresh the planner statistics of the tables an import fills, once it is committed.

    A bulk import of thousands of rows into near-empty tables leaves the planner's statistics
    behind (autovacuum's analyze comes later, if at all): until then the first lookups of
    Postfix and Dovecot may be planned as scans. Every caller of a committing import calls
    this: the web and CLI import jobs (transfer/jobs.py), `manage.py import_csv`, the
    PostfixAdmin migration and `manage.py restore` (transfer/backup.py). Inside a transaction
    it waits for the commit (MariaDB's ANALYZE TABLE would commit it early).
    """
    transaction.on_commit(_analyze)


def _analyze() -> None:
    """The import is committed whatever happens here: a failure is logged, never raised."""
    tables = [model._meta.db_table for model in ANALYZED]
    quote = connection.ops.quote_name
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "mysql":
                cursor.execute("ANALYZE TABLE " + ", ".join(quote(t) for t in tables))
                cursor.fetchall()
            else:
                for table in tables:
                    cursor.execute(f"ANALYZE {quote(table)}")
    except DatabaseError:
        log.warning(
            "ANALYZE after an import failed; the statistics wait for autovacuum", exc_info=True
        )
