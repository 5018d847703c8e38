"""After a committed import the tables it filled are analysed (transfer.importer.analyze_tables),
so that the first lookups of Postfix and Dovecot are planned with statistics."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from tests import factories as f
from transfer import jobs
from transfer.models import ImportJob, JobState

pytestmark = pytest.mark.django_db(transaction=True)

HASH = "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"
ROWS = 30


def _csv() -> str:
    lines = ["type,name,password", "domain,big.example,"]
    lines += [f"mailbox,user{i}@big.example,{HASH}" for i in range(ROWS)]
    return "\n".join(lines) + "\n"


def _analysed_rows(table: str) -> int | None:
    """The row count the planner's statistics hold for `table`; None: never analysed."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # reltuples is -1 until the first ANALYZE (or VACUUM); inserts do not move it.
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            value = cursor.fetchone()[0]
            return None if value < 0 else int(value)
        if connection.vendor == "mysql":
            cursor.execute(
                "SELECT n_rows FROM mysql.innodb_table_stats"
                " WHERE database_name = DATABASE() AND table_name = %s",
                [table],
            )
            row = cursor.fetchone()
            return None if row is None else int(row[0])
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return None
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        row = cursor.fetchone()
        return None if row is None else int(row[0].split()[0])


def test_import_csv_command_analyses(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(_csv())
    if connection.vendor == "postgresql":
        assert _analysed_rows("mailboxes_mailbox") is None
    call_command("import_csv", str(path), "--no-progress", stdout=io.StringIO())
    assert _analysed_rows("mailboxes_mailbox") == ROWS
    # Filled by triggers: the logins Dovecot's lookups read.
    assert _analysed_rows("mailboxes_mailboxlogin") == ROWS


def test_dry_run_does_not_analyse(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(_csv())
    call_command("import_csv", str(path), "--no-progress", "--dry-run", stdout=io.StringIO())
    if connection.vendor == "postgresql":  # the others keep statistics of their own accord
        assert _analysed_rows("mailboxes_mailbox") is None


def test_web_import_job_analyses() -> None:
    owner = get_user_model().objects.create_superuser("boss", "b@example.net", f.PASSWORD)
    job = ImportJob.objects.create(
        owner=owner, filename="big.csv", data=_csv().encode(), total=ROWS + 1
    )
    jobs.check(job, progress=False)
    job.refresh_from_db()
    assert jobs.confirm(job)
    job.refresh_from_db()
    jobs.write(job, progress=False)
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert _analysed_rows("mailboxes_mailbox") == ROWS


STATS = r"""
from django.db import connection
table = "mailboxes_mailbox"
with connection.cursor() as cursor:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        value = cursor.fetchone()[0]
        print(-1 if value < 0 else int(value))
    elif connection.vendor == "mysql":
        cursor.execute(
            "SELECT n_rows FROM mysql.innodb_table_stats"
            " WHERE database_name = DATABASE() AND table_name = %s",
            [table],
        )
        row = cursor.fetchone()
        print(-1 if row is None else int(row[0]))
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            print(-1)
        else:
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
            row = cursor.fetchone()
            print(-1 if row is None else int(row[0].split()[0]))
"""


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
def test_import_csv_and_restore_analyse_on_every_dialect(dialect: str, tmp_path: Path) -> None:
    """`manage.py import_csv` and `manage.py restore` leave planner statistics behind on every
    database: PostgreSQL's reltuples, MariaDB's persistent statistics, SQLite's sqlite_stat1."""
    from tests.support import create_contract_db, drop_contract_db

    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    path = tmp_path / "big.csv"
    path.write_text(_csv())
    first = create_contract_db(dialect, tmp_path / "first")
    second = None
    try:
        first.manage("import_csv", str(path), "--no-progress")
        assert first.python(STATS).stdout.split()[-1] == str(ROWS)
        # The backup holds the import's own log entry, of no single object: restore takes it.
        first.manage("backup", "--out", str(tmp_path / "backup.json"))
        second = create_contract_db(dialect, tmp_path / "second")
        second.manage("restore", str(tmp_path / "backup.json"))
        assert second.python(STATS).stdout.split()[-1] == str(ROWS)
    finally:
        drop_contract_db(first)
        if second is not None:
            drop_contract_db(second)
