import pytest

from mailadmin.contract.views_v1 import ALL_VIEWS
from tests.support import ContractDB, create_contract_db, drop_contract_db

COUNT_VIEWS = (
    "from django.db import connection\n"
    "from mailadmin.contract.views_v1 import ALL_VIEWS\n"
    "with connection.cursor() as c:\n"
    "    for v in ALL_VIEWS:\n"
    "        c.execute(f'SELECT COUNT(*) FROM {v}')\n"
    "        print(v, c.fetchone()[0])\n"
)


def _empty_views(db: ContractDB) -> int:
    return db.python(COUNT_VIEWS).stdout.count(" 0\n")


@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
def test_migrate_creates_contract_views(dialect, tmp_path):
    db = create_contract_db(dialect, tmp_path)
    try:
        assert _empty_views(db) == len(ALL_VIEWS)
    finally:
        drop_contract_db(db)


@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
def test_tables_the_views_read_can_still_change(dialect, tmp_path):
    # SQLite rebuilds a table to add a column; a view naming the table used to block that.
    db = create_contract_db(dialect, tmp_path)
    try:
        db.manage("migrate", "mailboxes", "0001", "--no-input")
        db.manage("migrate", "--no-input")
        assert _empty_views(db) == len(ALL_VIEWS)
    finally:
        drop_contract_db(db)
