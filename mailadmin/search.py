"""The panel's text search: a case-insensitive "contains", the same answer on every database.

PostgreSQL and SQLite: Django's icontains, `UPPER(col::text) LIKE UPPER(term)` on PostgreSQL,
the expression its trigram indexes hold (domains 0005, mailboxes 0005). MariaDB: the tables
are utf8mb4_bin (Postfix's keys match exactly, byte for byte), under which icontains' plain
LIKE is case-sensitive; both sides go through UPPER() instead.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, Value
from django.db.models.functions import Upper
from django.db.models.lookups import Contains

# The longest search term a list takes; the rest is cut off.
SEARCH_MAX = 100


def contains_text(field: str, term: str) -> Q:
    """`field` (a field name or a path such as destinations__address) contains `term`, in any
    case."""
    if connection.vendor == "mysql":
        return Q(Contains(Upper(field), Upper(Value(term))))
    return Q(**{f"{field}__icontains": term})
