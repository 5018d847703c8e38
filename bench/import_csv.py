"""Benchmark: `manage.py import_csv` of 10k, 50k and 100k mailboxes with pre-hashed passwords.

Each size is imported into a fresh, migrated PostgreSQL database by the real command in a
child process; the script reports wall time, rows per second and the child's peak memory
(ru_maxrss from wait4). Not a test: run it by hand and copy the table into
docs/import-export.md.

    .venv/bin/python bench/import_csv.py                       # 10000 50000 100000
    .venv/bin/python bench/import_csv.py --sizes 1000 --keep   # keep the CSV files
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "MAILADMIN_BENCH_PGSQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DOMAINS = 100


def write_csv(path: Path, mailboxes: int) -> None:
    """`mailboxes` rows over DOMAINS domains, each with a distinct SHA512-CRYPT-shaped hash."""
    per_domain = max(mailboxes // DOMAINS, 1)
    with path.open("w", encoding="utf-8") as out:
        out.write("type,name,password,display_name,quota,max_mailboxes\n")
        for d in range(DOMAINS):
            out.write(f"domain,bench{d}.example,,,,{per_domain + 10}\n")
        for i in range(mailboxes):
            salt = hashlib.sha1(str(i).encode()).hexdigest()[:16]  # noqa: S324 - fake salts
            digest = hashlib.sha512(str(i).encode()).hexdigest()[:86]
            out.write(
                f"mailbox,user{i}@bench{i % DOMAINS}.example,"
                f"{{SHA512-CRYPT}}$6${salt}${digest},User {i},1G,\n"
            )


def _psql(sql: str) -> None:
    import psycopg

    parts = urlsplit(ADMIN_URL)
    conninfo = (
        f"host={parts.hostname} port={parts.port or 5432} user={parts.username} "
        f"dbname={parts.path.lstrip('/')}"
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql)


def _manage(url: str, *args: str) -> tuple[float, int, str]:
    """Run manage.py; returns (seconds, peak RSS in MiB, stderr)."""
    env = dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="mailadmin.settings")
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - started
        err.seek(0)
        message = err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{message}")
    return elapsed, usage.ru_maxrss // 1024, message


def bench(size: int, folder: Path) -> tuple[int, float, int, float, int]:
    path = folder / f"mailboxes-{size}.csv"
    write_csv(path, size)
    name = f"mailadmin_bench_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(ADMIN_URL)
    url = f"postgresql://{parts.username}@{parts.hostname}:{parts.port or 5432}/{name}"
    _psql(f'CREATE DATABASE "{name}"')
    try:
        _manage(url, "migrate", "--no-input", "-v", "0")
        dry, dry_rss, _ = _manage(url, "import_csv", str(path), "--dry-run", "--no-progress")
        seconds, rss, _ = _manage(url, "import_csv", str(path), "--no-progress")
    finally:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return size, dry, dry_rss, seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV files")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mailadmin-bench-"))
    print("| mailboxes | file | dry run | rows/s | peak RSS | import | rows/s | peak RSS |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        size, dry, dry_rss, seconds, rss = bench(size, folder)
        mib = (folder / f"mailboxes-{size}.csv").stat().st_size / 2**20
        print(
            f"| {size:,} | {mib:.1f} MiB | {dry:.1f} s | {size / dry:,.0f} | {dry_rss} MiB "
            f"| {seconds:.1f} s | {size / seconds:,.0f} | {rss} MiB |",
            flush=True,
        )
        if not args.keep:
            (folder / f"mailboxes-{size}.csv").unlink()
    if not args.keep:
        folder.rmdir()


if __name__ == "__main__":
    main()
