"""Private PostgreSQL clusters for tests of streaming replication: a primary made by initdb and
hot standbys made from it by `pg_basebackup -R`, each on its own loopback port.

Debian's server binaries (/usr/lib/postgresql/<version>/bin) run as the `postgres` OS user
(through runuser when the tests run as root); the shared cluster on 5432 is never touched.
Every cluster lives in a folder of its own (data, socket, log) that stop() leaves for
cleanup() to remove.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.dovecot_harness import free_loopback_port

OS_USER = "postgres"
# Sent to every cluster: fast to start and stop, small, and logging what a test looks at.
SETTINGS = (
    "listen_addresses=127.0.0.1",
    "wal_level=replica",
    "max_wal_senders=5",
    "hot_standby=on",
    "fsync=off",
    "shared_buffers=16MB",
    "max_connections=60",
    "log_connections=on",
)


def server_bin() -> Path:
    """The newest Debian server binaries, or skip (a failure in CI)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parent.parent.name
    )
    if not found:
        pytest.skip("PostgreSQL's server binaries are not installed (/usr/lib/postgresql)")
    return found[-1].parent


def _as_owner(args: Sequence[str]) -> list[str]:
    if os.geteuid() != 0:
        return list(args)
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", OS_USER, "--", *args]


class Cluster:
    """One PostgreSQL server (primary or standby) under `root`, on 127.0.0.1:`port`."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "run"
        self.log_path = root / "server.log"
        self.port = port or free_loopback_port()
        self.bin = server_bin()

    # -- making -------------------------------------------------------------------------

    @classmethod
    def _folder(cls, prefix: str) -> Path:
        root = Path(tempfile.mkdtemp(prefix=prefix))
        root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(root, OS_USER, OS_USER)
        return root

    @classmethod
    def primary(cls) -> Cluster:
        """initdb a new cluster (trust for 127.0.0.1, replication allowed) and start it."""
        cluster = cls(cls._folder("mailadmin-pg-primary-"))
        cluster.run(
            cluster.bin / "initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        with (cluster.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        return cluster.start()

    def standby(self) -> Cluster:
        """A hot standby of this (running) primary: `pg_basebackup -R`, then started."""
        replica = Cluster(self._folder("mailadmin-pg-replica-"))
        self.run(
            self.bin / "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-D", str(replica.data), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
        )  # fmt: skip
        return replica.start()

    # -- running ------------------------------------------------------------------------

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            _as_owner([str(a) for a in args]),
            capture_output=True,
            text=True,
            timeout=120,
            cwd="/",
        )
        if result.returncode != 0:
            raise AssertionError(
                f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{self.log()[-3000:]}"
            )
        return result

    def start(self) -> Cluster:
        if not self.socket_dir.exists():
            self.socket_dir.mkdir()
            if os.geteuid() == 0:
                shutil.chown(self.socket_dir, OS_USER, OS_USER)
        options = " ".join(
            [f"-p {self.port}", f"-k {self.socket_dir}", *(f"-c {s}" for s in SETTINGS)]
        )
        self.run(
            self.bin / "pg_ctl", "-D", self.data, "-l", self.log_path, "-o", options, "-w", "start"
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self.run(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def cleanup(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- talking ------------------------------------------------------------------------

    def url(self, dbname: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} connect_timeout=5"

    def execute(self, sql: str, dbname: str = "postgres") -> list[tuple[object, ...]]:
        import psycopg

        with psycopg.connect(self.conninfo(dbname), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []

    def wait_replaying(self, primary: Cluster, timeout: float = 30) -> None:
        """Until this standby streams from `primary` (pg_stat_replication on the primary)."""
        deadline = time.monotonic() + timeout
        while not primary.execute("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'"):
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby never streamed:\n{self.log()[-3000:]}")
            time.sleep(0.1)
