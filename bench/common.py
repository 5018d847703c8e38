"""What every benchmark script shares: the benchmark database, the machine, the result files.

The benchmarks run against a database of their own (``mailadmin_bench_<size>`` by default) on
the PostgreSQL server the tests use, never against the panel's or the tests' databases. The
server is reached as its superuser (``MAILADMIN_BENCH_PGSQL_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``), as the test suite does.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from mailadmin import dburl

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "MAILADMIN_BENCH_PGSQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Results and generated files of the last run: under var/ (not in git), one folder per database.
OUT_ROOT = Path(os.environ.get("MAILADMIN_BENCH_OUT", ROOT / "var" / "bench"))
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def size_label(mailboxes: int) -> str:
    """1000 -> 1k, 100000 -> 100k, 1000000 -> 1m."""
    if mailboxes % 1_000_000 == 0:
        return f"{mailboxes // 1_000_000}m"
    if mailboxes % 1000 == 0:
        return f"{mailboxes // 1000}k"
    return str(mailboxes)


def default_db_name(mailboxes: int) -> str:
    return f"mailadmin_bench_{size_label(mailboxes)}"


@dataclass(frozen=True)
class BenchDB:
    """One benchmark database on the admin URL's server."""

    name: str

    def __post_init__(self) -> None:
        if not _DB_NAME.match(self.name):
            raise ValueError(f"database name {self.name!r}: lowercase letters, digits and _")
        if self.name in {"postgres", "template0", "template1", "mailadmin"}:
            raise ValueError(f"refusing to use {self.name!r} as a benchmark database")

    @property
    def admin(self) -> dburl.DatabaseURL:
        return dburl.parse(ADMIN_URL)

    @property
    def host(self) -> str:
        return self.admin.host or "127.0.0.1"

    @property
    def port(self) -> int:
        return self.admin.port or 5432

    @property
    def url(self) -> str:
        """The panel's URL for this database (the superuser, no password)."""
        return f"postgresql://{self.admin.user}@{self.host}:{self.port}/{self.name}"

    @property
    def out(self) -> Path:
        return OUT_ROOT / self.name

    def conninfo(self, dbname: str | None = None) -> str:
        return (
            f"host={self.host} port={self.port} user={self.admin.user} dbname={dbname or self.name}"
        )

    def connect(self, dbname: str | None = None, autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(dbname), autocommit=autocommit)

    def exists(self) -> bool:
        with self.connect(self.admin.name) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.name,))
            return row.fetchone() is not None

    def recreate(self) -> None:
        with self.connect(self.admin.name) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with self.connect(self.admin.name) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def contract_db(self) -> Any:
        """The test suite's handle on a contract database (manage.py, roles.sql as admin)."""
        from tests.support import ContractDB

        return ContractDB("pgsql", self.name, self.url, self.host, self.port)


def machine() -> dict[str, Any]:
    """The machine and its load when the figures were taken."""
    info: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        admin = dburl.parse(ADMIN_URL)
        conninfo = (
            f"host={admin.host or '127.0.0.1'} port={admin.port or 5432} user={admin.user} "
            f"dbname={admin.name}"
        )
        with psycopg.connect(conninfo) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else "?"
            for setting in ("shared_buffers", "work_mem", "max_connections"):
                value = conn.execute(f"SHOW {setting}").fetchone()
                info[f"pg_{setting}"] = value[0] if value else "?"
    except psycopg.Error as exc:
        info["postgresql"] = f"unreachable: {exc}"
    info["postfix"] = _command_output(["/usr/sbin/postconf", "-h", "mail_version"])
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _command_output(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def write_result(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t: ...` then t[0] is the elapsed seconds."""
    holder: list[float] = []
    start = time.perf_counter()
    try:
        yield holder
    finally:
        holder.append(time.perf_counter() - start)


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]
