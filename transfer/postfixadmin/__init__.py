"""Migration from a PostfixAdmin database (PostgreSQL or MySQL/MariaDB).

PostfixAdmin's tables are read as they are (`source`) and turned into rows of the CSV import
format (`mapping`, which says what each of its columns becomes), which then go through the
same importer as a CSV file: the same rules, limits and normalisation. Its admins become admin
accounts through the accounts services (`admins`), its vacation replies the mailboxes' replies
through the sieve services (`vacations`). Rows that break a rule are skipped and
reported, never half-imported; objects that already exist are skipped, so a second run changes
nothing (`migration`).
"""

from transfer.postfixadmin.mapping import Mapping, map_password, map_rows, map_transport
from transfer.postfixadmin.migration import MigrationReport, migrate
from transfer.postfixadmin.source import PfaData, SourceError, read_source

__all__ = [
    "Mapping",
    "MigrationReport",
    "PfaData",
    "SourceError",
    "map_password",
    "map_rows",
    "map_transport",
    "migrate",
    "read_source",
]
