"""A primary and a streaming replica of PostgreSQL (tests/pg_cluster.py), the contract
database migrated into the primary, and the mail side reading `replica primary` as the
operator guide's replica section says: Postfix's tables (through a private Postfix's proxymap)
and Dovecot's auth (a private Dovecot).

export_maps writes two sets from the same role passwords: the installed one, whose hosts are
the replica then the primary, and a replica-only set that shows when the replica itself has
a change (what the lag is measured with). Shared by tests/e2e/test_replica.py and
bench/replica.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.dovecot_harness import AuthResult, PrivateDovecot, free_loopback_port
from tests.pg_cluster import Cluster
from tests.postfix_harness import PrivatePostfix, run_doc_block
from tests.support import ROOT, ContractDB, require_tool

POSTFIX_ROLE = "mailadmin_replica_postfix"
DOVECOT_ROLE = "mailadmin_replica_dovecot"
DB_NAME = "mailadmin"
PASSWORD = "correct horse battery"
ADDRESS = "ann@example.com"
TABLE = "virtual_mailbox_maps"

SEED = f"""
from domains.services import domain_create
from mailadmin import passwords
from mailboxes.services import mailbox_create
domain_create(actor=None, name="example.com")
mailbox_create(actor=None, address={ADDRESS!r}, password_hash=passwords.hash_password({PASSWORD!r}))
"""

# Changes through the panel's service layer: for each address read from stdin, a new
# mailbox (whose address the Postfix table then answers); prints the time of the commit.
CREATE_MAILBOXES = """
import sys, time
from mailboxes.services import mailbox_create
for line in sys.stdin:
    mailbox_create(actor=None, address=line.strip(), password_hash="{ARGON2ID}x")
    print(time.time(), flush=True)
"""


@dataclass
class ReplicaStack:
    primary: Cluster
    replica: Cluster
    db: ContractDB
    postfix: PrivatePostfix
    dovecot: PrivateDovecot
    work: Path
    replica_tables: Path  # the replica-only export's Postfix tables

    # -- lookups ------------------------------------------------------------------------

    def postmap(self, key: str, *, table: str = TABLE) -> subprocess.CompletedProcess[str]:
        """`postmap -q KEY proxy:pgsql:TABLE.cf` through the private Postfix's proxymap."""
        return subprocess.run(
            [
                require_tool("postmap"),
                "-c",
                str(self.postfix.config_dir),
                "-q",
                key,
                f"proxy:pgsql:{self.postfix.tables_dir}/{table}.cf",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def on_replica(self, key: str) -> str:
        """The answer of the replica alone (the replica-only table, no proxymap)."""
        return self._direct(key, self.replica_tables)

    def direct_postmap(self, key: str) -> str:
        """The installed table's answer from a postmap of its own (a new connection)."""
        return self._direct(key, self.postfix.tables_dir)

    def _direct(self, key: str, tables: Path) -> str:
        result = subprocess.run(
            [require_tool("postmap"), "-q", key, f"pgsql:{tables}/{TABLE}.cf"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode in (0, 1), result.stderr
        return result.stdout.strip()

    def auth(self) -> AuthResult:
        return self.dovecot.auth_test(ADDRESS, PASSWORD)

    # -- changes ------------------------------------------------------------------------

    def lags(self, addresses: list[str], timeout: float = 30) -> list[float]:
        """Make each mailbox through mailboxes.services on the primary (one process for all),
        then poll the replica's own lookup until it answers the address: the seconds from the
        commit to the answer, for each."""
        panel = subprocess.Popen(
            [sys.executable, "-c", "import django; django.setup()\n" + CREATE_MAILBOXES],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=self.db.env(),
            cwd=ROOT,
        )
        assert panel.stdin is not None and panel.stdout is not None
        lags = []
        try:
            for address in addresses:
                panel.stdin.write(address + "\n")
                panel.stdin.flush()
                committed = float(panel.stdout.readline())
                deadline = time.monotonic() + timeout
                while not self.on_replica(address):
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{address} never reached the replica")
                lags.append(time.time() - committed)
        finally:
            panel.stdin.close()
            assert panel.wait(timeout=60) == 0
        return lags

    def replica_connections(self, role: str) -> int:
        """How many sessions `role` has open on the replica (pg_stat_activity)."""
        rows = self.replica.execute(
            f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{role}'"  # noqa: S608
        )
        return int(str(rows[0][0]))

    def replica_logins(self, role: str) -> int:
        """Connections `role` opened on the replica so far (log_connections)."""
        return self.replica.log().count(f"connection authorized: user={role} ")


def _export(db: ContractDB, out: Path, db_url: str, postfix: PrivatePostfix, dovecot_dir: Path,
            work: Path) -> None:  # fmt: skip
    db.manage(
        "export_maps", "--dialect", "pgsql", "--out", str(out), "--db-url", db_url,
        "--postfix-role", POSTFIX_ROLE, "--dovecot-role", DOVECOT_ROLE,
        "--postfix-dir", str(postfix.tables_dir), "--dovecot-dir", str(dovecot_dir),
        "--dovecot-conf", str(work / "dovecot" / "dovecot.conf"),
        "--sasl-socket", str(work / "auth-sasl"),
    )  # fmt: skip


@contextmanager
def replica_stack(work: Path) -> Iterator[ReplicaStack]:
    """Build the whole stack (about 10 s) and take it down afterwards."""
    for tool in ("postfix", "postconf", "postmap", "dovecot", "doveadm", "runuser"):
        require_tool(tool)
    primary = Cluster.primary()
    replica: Cluster | None = None
    postfix = PrivatePostfix(smtp_port=free_loopback_port())
    dovecot: PrivateDovecot | None = None
    try:
        primary.execute(f'CREATE DATABASE "{DB_NAME}"')
        db = ContractDB("pgsql", DB_NAME, primary.url(DB_NAME), "127.0.0.1", primary.port)
        db.manage("migrate", "--no-input", "-v", "0")
        db.python(SEED)
        postfix.create()
        dovecot_dir = postfix.root / "dovecot"
        dovecot_dir.mkdir(mode=0o755)
        replica = primary.standby()
        replica.wait_replaying(primary)
        export = work / "export"
        hosts = f"127.0.0.1:{replica.port},127.0.0.1:{primary.port}"
        _export(db, export, f"postgresql://{hosts}/{DB_NAME}", postfix, dovecot_dir, work)
        # The same role passwords for the replica-only set (roles.sql is applied once).
        replica_only = work / "export-replica"
        replica_only.mkdir(mode=0o700)
        shutil.copy2(export / ".mailadmin-secrets.json", replica_only)
        replica_url = f"postgresql://127.0.0.1:{replica.port}/{DB_NAME}"
        _export(db, replica_only, replica_url, postfix, dovecot_dir, work)
        # On the primary only: the roles reach the replica with everything else.
        primary.execute((export / "sql" / "roles.sql").read_text(), DB_NAME)
        env = {
            "EXPORT_DIR": str(export),
            "POSTFIX_TABLES_DIR": str(postfix.tables_dir),
            "DOVECOT_DIR": str(dovecot_dir),
        }
        run_doc_block("install-postfix-tables", env)
        run_doc_block("install-dovecot-files", env)
        # proxymap serves only the tables main.cf names: the default ones and the test's.
        table = f"proxy:pgsql:{postfix.tables_dir}/{TABLE}.cf"
        postfix.postconf(f"proxy_read_maps = {postfix.get('proxy_read_maps')} {table}")
        dovecot = PrivateDovecot(
            work / "dovecot", includes=[dovecot_dir / "auth-mailadmin.conf.ext"]
        )
        dovecot.start()
        postfix.start()
        yield ReplicaStack(primary, replica, db, postfix, dovecot, work, replica_only / "postfix")
    finally:
        postfix.stop()
        if dovecot is not None:
            dovecot.stop()
        if replica is not None:
            replica.cleanup()
        primary.cleanup()


def new_addresses(count: int) -> list[str]:
    return [f"r{uuid.uuid4().hex[:10]}@example.com" for _ in range(count)]


def work_dir() -> Path:
    """A folder for a run outside pytest (the bench)."""
    return Path(tempfile.mkdtemp(prefix="mailadmin-replica-"))
