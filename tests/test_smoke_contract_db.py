import pytest

from tests.support import create_contract_db, drop_contract_db


@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
def test_migrate_creates_contract_views(dialect, tmp_path):
    db = create_contract_db(dialect, tmp_path)
    try:
        out = db.python(
            "from django.db import connection\n"
            "from mailadmin.contract.views_v1 import ALL_VIEWS\n"
            "with connection.cursor() as c:\n"
            "    for v in ALL_VIEWS:\n"
            "        c.execute(f'SELECT COUNT(*) FROM {v}')\n"
            "        print(v, c.fetchone()[0])\n"
        )
        assert out.stdout.count(" 0\n") == 6
    finally:
        drop_contract_db(db)
