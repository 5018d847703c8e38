"""A mailbox's quota usage row follows it to a new address, in every dialect.

Dovecot writes mailadmin_quota_usage under the address it knows, and the row's mailbox_id is
unique. A mailbox whose local part or domain changes (raw SQL, a restore, a later rename
feature: mailboxes_mailboxlogin follows by trigger) must keep one row, under its new address,
so that Dovecot's next write under that address lands on it instead of failing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import create_contract_db, drop_contract_db

SCRIPT = r"""
import json
from django.db import connection
from tests import factories as f
from tests.dovecot_usage import report

def rows():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.username, u.bytes, m.local_part FROM mailadmin_quota_usage u"
            " LEFT JOIN mailboxes_mailbox m ON m.id = u.mailbox_id ORDER BY u.username"
        )
        return [list(row) for row in cursor.fetchall()]

def sql(statement):
    with connection.cursor() as cursor:
        cursor.execute(statement)

f.domain("a.example")
f.domain("b.example")
box = f.mailbox("anna@a.example", quota=1000)
report("anna@a.example", 100)
report("ghost@a.example", 7)  # a user the panel does not know (mailbox_id NULL)
sql("UPDATE mailboxes_mailbox SET local_part = 'ghost', path = 'a.example/ghost/'"
    f" WHERE id = {box.pk}")
renamed = rows()
report("ghost@a.example", 200)  # Dovecot's next write, under the new address
written = rows()
sql("UPDATE mailboxes_mailbox SET domain_id = (SELECT id FROM domains_domain"
    f" WHERE name = 'b.example') WHERE id = {box.pk}")
moved = rows()
report("ghost@b.example", 300)
print(json.dumps({"renamed": renamed, "written": written, "moved": moved, "last": rows()}))
"""


@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
def test_the_usage_row_follows_the_mailbox(dialect: str, tmp_path: Path) -> None:
    db = create_contract_db(dialect, tmp_path)
    try:
        out = json.loads(db.python(SCRIPT).stdout.strip().splitlines()[-1])
    finally:
        drop_contract_db(db)
    assert out["renamed"] == [["ghost@a.example", 100, "ghost"]]
    assert out["written"] == [["ghost@a.example", 200, "ghost"]]
    assert out["moved"] == [["ghost@b.example", 200, "ghost"]]
    assert out["last"] == [["ghost@b.example", 300, "ghost"]]
