"""Dovecot's quota_clone as the tests play it: the upsert its SQL dict sends.

Dovecot writes only username, bytes and messages; the table's triggers fill in the mailbox,
its domain and permille. Nothing in the panel writes mailadmin_quota_usage, so the tests write
it the way Dovecot does, never through the model.
"""

from __future__ import annotations

from django.db import connection

_UPSERT = {
    "postgresql": (
        "INSERT INTO mailadmin_quota_usage (username, bytes, messages) VALUES (%s, %s, %s)"
        " ON CONFLICT (username) DO UPDATE SET bytes = excluded.bytes,"
        " messages = excluded.messages"
    ),
    "sqlite": (
        "INSERT INTO mailadmin_quota_usage (username, bytes, messages) VALUES (%s, %s, %s)"
        " ON CONFLICT (username) DO UPDATE SET bytes = excluded.bytes,"
        " messages = excluded.messages"
    ),
    "mysql": (
        "INSERT INTO mailadmin_quota_usage (username, bytes, messages) VALUES (%s, %s, %s)"
        " ON DUPLICATE KEY UPDATE bytes = VALUES(bytes), messages = VALUES(messages)"
    ),
}

MiB = 1024**2
GiB = 1024**3


def report(username: str, used: int, messages: int = 0) -> None:
    """Dovecot reports `used` bytes and `messages` for the user `username` (an address)."""
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT[connection.vendor], [username, used, messages])
