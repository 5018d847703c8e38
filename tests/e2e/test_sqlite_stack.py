"""The embedded SQLite database end to end: Postfix delivers, Dovecot logs in, and the
postfix user can read no password hash.

The stack is built by the SQLite steps of docs/operators.md, read from the guide and run as
written: `manage.py migrate` with the default settings (as scripts/run makes the database;
only the path differs), the files' owners and modes, export_maps, then the guide's Postfix,
Dovecot and mail-directory steps shared with PostgreSQL. Postfix reads the Postfix file
(`mailadmin-postfix.sqlite3`, no hashes), Dovecot the panel's own file; the panel's
connections keep the Postfix file in step in the same transactions
(mailadmin/contract/sqlite_files.py), so no test exports or reloads anything to see a change.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dovecot_harness import PrivateDovecot, free_loopback_port
from tests.e2e.conftest import (
    CHECK_ADDRESS,
    DOMAIN_GID,
    DOMAIN_UID,
    MYNETWORKS,
    PASSWORD,
    SEED,
    MailStack,
    delivery_env,
)
from tests.e2e.conftest import INSTALL_STEPS as PGSQL_INSTALL_STEPS
from tests.postfix_harness import PrivatePostfix, doc_blocks, run_doc_block
from tests.support import ROOT, ContractDB, require_tool

pytestmark = [pytest.mark.tools, pytest.mark.e2e]

# The marked blocks of docs/operators.md, in order: the SQLite database (migrate, owners,
# modes), the seed (through the services, as the panel would), the SQLite export, then the
# steps the PostgreSQL stack runs after its own database steps (Postfix, Dovecot, maildirs).
DATABASE_STEP = "sqlite-database"
PGSQL_ONLY_STEPS = ("export-maps", "apply-roles")
INSTALL_STEPS = (
    "sqlite-export-maps",
    *(step for step in PGSQL_INSTALL_STEPS if step not in PGSQL_ONLY_STEPS),
)
CHECK_STEP = "sqlite-check-lookups"
HASH_MARK = b"{ARGON2ID}"

SET_ACTIVE = """
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_set_active
mailbox = Mailbox.objects.get(domain__name={domain!r}, local_part={local!r})
mailbox_set_active(actor=None, mailbox=mailbox, active={active!r})
"""

CREATE_MAILBOX = """
from mailadmin import passwords
from mailboxes.services import mailbox_create
mailbox_create(
    actor=None, address={address!r}, password_hash=passwords.hash_password({password!r})
)
"""


class SQLiteStack(MailStack):
    @property
    def panel_db(self) -> Path:
        return Path(self.env["SQLITE_DB"])

    @property
    def postfix_db(self) -> Path:
        return Path(self.env["SQLITE_POSTFIX_DB"])

    def postmap(self, key: str, table: str) -> str:
        result = subprocess.run(
            [
                require_tool("postmap"),
                "-c",
                str(self.postfix.config_dir),
                "-q",
                key,
                f"proxy:sqlite:{self.postfix.tables_dir}/{table}.cf",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode in (0, 1), result.stderr
        return result.stdout.strip()

    def rcpt(self, address: str) -> tuple[int, str]:
        """smtpd's answer to RCPT TO for `address` from a local client (no mail is sent)."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            smtp.ehlo("client.mailadmin.test")
            smtp.mail("someone@outside.example")
            code, text = smtp.rcpt(address)
            smtp.rset()
        return code, text.decode(errors="replace")


def as_postfix(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [require_tool("runuser"), "-u", "postfix", "--", *args],
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStack]:
    for tool in ("postfix", "postconf", "postmap", "dovecot", "doveadm", "sqlite3", "runuser"):
        require_tool(tool)
    if os.geteuid() != 0:
        pytest.skip("the mail stack runs as root (Postfix and Dovecot drop privileges)")
    work = tmp_path_factory.mktemp("e2e-sqlite")
    # The postfix and dovecot users must reach the database folder: not under pytest's 0700.
    base = Path(tempfile.mkdtemp(prefix="mailadmin-sqlite-"))
    base.chmod(0o755)
    sqlite_dir = base / "lib"
    panel_db = sqlite_dir / "mailadmin.sqlite3"
    db = ContractDB("sqlite", str(panel_db), f"sqlite:///{panel_db}")
    mail_base = Path(tempfile.mkdtemp(prefix="mailadmin-vmail-"))
    mail_base.chmod(0o755)
    postfix = PrivatePostfix(smtp_port=free_loopback_port())
    dovecot: PrivateDovecot | None = None
    try:
        postfix.create()
        dovecot_dir = postfix.root / "dovecot"
        dovecot_dir.mkdir(mode=0o755)
        env = db.env(
            MAILADMIN_MAIL_BASE=str(mail_base),
            MAILADMIN_MIN_UID="1000",
            MANAGE=f"{sys.executable} {ROOT / 'manage.py'}",
            PANEL_USER="root",
            SQLITE_DIR=str(sqlite_dir),
            SQLITE_DB=str(panel_db),
            SQLITE_POSTFIX_DB=str(sqlite_dir / "mailadmin-postfix.sqlite3"),
            EXPORT_DIR=str(work / "export"),
            POSTFIX_CONFIG_DIR=str(postfix.config_dir),
            POSTFIX_TABLES_DIR=str(postfix.tables_dir),
            DOVECOT_DIR=str(dovecot_dir),
            DOVECOT_CONF=str(work / "dovecot" / "dovecot.conf"),
            SASL_SOCKET=str(postfix.sasl_socket),
            MYNETWORKS=MYNETWORKS,
            MAIL_BASE=str(mail_base),
            CHECK_ADDRESS=CHECK_ADDRESS,
            **delivery_env(postfix, free_loopback_port()),
        )
        run_doc_block(DATABASE_STEP, env)
        db.python(SEED)
        for step in INSTALL_STEPS:
            run_doc_block(step, env)
        dovecot = PrivateDovecot(
            work / "dovecot",
            includes=[
                dovecot_dir / "auth-mailadmin.conf.ext",
                dovecot_dir / "delivery-mailadmin.conf.ext",
            ],
            imap_port=free_loopback_port(),
            lmtp_socket=postfix.lmtp_socket,
        )
        dovecot.start()
        postfix.start()
        stack = SQLiteStack(db, postfix, dovecot, work, mail_base, env)
        check = run_doc_block(CHECK_STEP, env, stdin=PASSWORD + "\n")
        stack.check_output = check.stdout + check.stderr
        yield stack
        problems = postfix.log_problems() + dovecot.log_problems()
        assert not problems, "Postfix or Dovecot logged problems:\n" + "\n".join(problems)
    finally:
        postfix.stop()
        if dovecot is not None:
            dovecot.stop()
        shutil.rmtree(mail_base, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


def test_guide_has_the_sqlite_blocks() -> None:
    blocks = doc_blocks()
    for name in (DATABASE_STEP, *INSTALL_STEPS, CHECK_STEP):
        assert blocks.get(name, "").strip(), f"docs/operators.md has no block {name!r}"


def test_guide_check_block_passed(sqlite_stack: SQLiteStack) -> None:
    output = sqlite_stack.check_output
    assert "example.com/ann/" in output  # postmap -q through proxymap, running as postfix
    assert f"uid\t{DOMAIN_UID}" in output  # doveadm user
    assert f"passdb: {CHECK_ADDRESS} auth succeeded" in output  # doveadm auth test


def test_the_panel_database_holds_the_hashes_and_is_not_in_wal_mode(
    sqlite_stack: SQLiteStack,
) -> None:
    """Readers need only read access: a rollback journal, not WAL and its -shm file."""
    assert HASH_MARK in sqlite_stack.panel_db.read_bytes()
    for path in (sqlite_stack.panel_db, sqlite_stack.postfix_db):
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",), path
        assert not Path(f"{path}-shm").exists()


def test_postfix_user_cannot_read_a_password_hash(sqlite_stack: SQLiteStack) -> None:
    panel = as_postfix(
        "sqlite3", str(sqlite_stack.panel_db), "SELECT password FROM mailboxes_mailbox"
    )
    assert panel.returncode != 0 and HASH_MARK not in panel.stdout
    assert as_postfix("cat", str(sqlite_stack.panel_db)).returncode != 0

    # Every file Postfix opens: main.cf, the tables and the database each table names.
    opened = [sqlite_stack.postfix.config_dir / "main.cf"]
    for table in sorted(sqlite_stack.postfix.tables_dir.glob("*.cf")):
        opened.append(table)
        for line in table.read_text().splitlines():
            if line.startswith("dbpath = "):
                opened.append(Path(line.removeprefix("dbpath = ")))
    databases = {path for path in opened if path.suffix == ".sqlite3"}
    assert databases == {sqlite_stack.postfix_db}
    for path in opened:
        read = as_postfix("cat", str(path))
        assert read.returncode == 0, (path, read.stderr)
        assert HASH_MARK not in read.stdout, path
    # The Postfix file answers the Postfix views and has no password column at all.
    views = as_postfix(
        "sqlite3", str(sqlite_stack.postfix_db), "SELECT maildir FROM mailadmin_postfix_mailbox"
    )
    assert views.returncode == 0 and b"example.com/ann/" in views.stdout, views.stderr
    for query in (
        "SELECT password FROM postfix_mailboxes_mailbox",
        "SELECT password FROM mailadmin_dovecot_passdb",
    ):
        refused = as_postfix("sqlite3", str(sqlite_stack.postfix_db), query)
        assert refused.returncode != 0 and HASH_MARK not in refused.stdout, query


def test_virtual_delivers_to_the_maildir_owned_by_its_uid(sqlite_stack: SQLiteStack) -> None:
    token = sqlite_stack.send(["ann@example.com"])
    delivered = sqlite_stack.wait_delivered("ann@example.com", token)
    assert delivered.parent.name == "new"
    assert (delivered.stat().st_uid, delivered.stat().st_gid) == (DOMAIN_UID, DOMAIN_GID)
    assert sqlite_stack.imap_search("ann@example.com", PASSWORD, token)


def test_dovecot_logs_in_and_refuses_a_wrong_password(sqlite_stack: SQLiteStack) -> None:
    assert sqlite_stack.dovecot.auth_test("bob@example.com", PASSWORD).ok
    assert not sqlite_stack.dovecot.auth_test("bob@example.com", "wrong").ok


def test_unknown_recipient_is_refused_at_rcpt(sqlite_stack: SQLiteStack) -> None:
    code, text = sqlite_stack.rcpt("nobody@plain.example")
    assert code == 550, text
    assert sqlite_stack.rcpt("carl@plain.example")[0] == 250


def test_a_change_in_the_panel_is_seen_by_postfix_at_once(sqlite_stack: SQLiteStack) -> None:
    """No export, no reload: the panel's write reaches the Postfix file in its transaction."""
    address = "fresh@plain.example"
    assert sqlite_stack.postmap(address, "virtual_mailbox_maps") == ""
    sqlite_stack.db.python(CREATE_MAILBOX.format(address=address, password=PASSWORD))
    assert sqlite_stack.postmap(address, "virtual_mailbox_maps") == "plain.example/fresh/"
    assert sqlite_stack.rcpt(address)[0] == 250
    assert sqlite_stack.dovecot.auth_test(address, PASSWORD).ok

    sqlite_stack.db.python(SET_ACTIVE.format(domain="example.com", local="flip", active=False))
    try:
        code, text = sqlite_stack.rcpt("flip@example.com")
        assert code == 550 and "Mailbox disabled" in text, text
        assert not sqlite_stack.dovecot.auth_test("flip@example.com", PASSWORD).ok
    finally:
        sqlite_stack.db.python(SET_ACTIVE.format(domain="example.com", local="flip", active=True))
    token = sqlite_stack.send(["flip@example.com"])
    sqlite_stack.wait_delivered("flip@example.com", token)
