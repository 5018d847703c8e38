"""Django's database sessions, read by one fixed statement instead of a query built anew.

Every request of a logged-in admin or owner reads its session first. Django's db backend
builds that SELECT through the ORM on each request (a QuerySet, its lookups, the compiler),
which cost more than the round trip to the database: about 0.45 ms of a request floor of a
few milliseconds (the panel's request floor in docs/benchmarks.md). This store asks the same
question of the same table, the session key and an expiry in the future, in plain SQL that
every supported database reads alike; writes, key rotation, flush and expiry stay Django's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

# The table and columns of django.contrib.sessions.models.Session (SessionStore.model).
_SELECT = "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s"


class _Row:
    __slots__ = ("session_data",)

    def __init__(self, session_data: str) -> None:
        self.session_data = session_data


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        if self.session_key is None:
            return None
        connection = connections[router.db_for_read(self.model)]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_SELECT, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return _Row(row[0])
