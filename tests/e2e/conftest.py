"""The whole mail stack, built once per test module: PostgreSQL, Postfix, Dovecot.

1. A fresh migrated PostgreSQL contract database, filled through the services (SEED).
2. A private Postfix (tests/postfix_harness.py) whose queue directory is created first, so
   that Dovecot can open its SASL and LMTP sockets in the queue's private/.
3. The installation steps of docs/operators.md, read from the guide and run as written
   (export_maps, roles.sql, install the tables, postconf -e the main.cf lines, install the
   Dovecot files, prepare_maildirs) with the variables pointing at this test's folders.
4. A private Dovecot (tests/dovecot_harness.py) that includes the installed
   auth-mailadmin.conf.ext, with IMAP on a loopback port and LMTP on QUEUE/private/dovecot-lmtp.
5. The guide's check block (postmap -q through proxymap, doveadm user, doveadm auth test).

Postfix and Dovecot log in as per-run read-only roles (mailadmin_test_postfix_<id>), dropped
with the database at the end. Everything runs as root (Postfix and Dovecot drop privileges
themselves); without the tools or root the tests skip, which CI turns into failures.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailadmin import dburl
from tests.dovecot_harness import PrivateDovecot, free_loopback_port
from tests.postfix_harness import PrivatePostfix, run_doc_block, self_signed_certificate
from tests.support import (
    PGSQL_ADMIN_URL,
    ROOT,
    ContractDB,
    create_contract_db,
    drop_contract_db,
    drop_roles,
    require_tool,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: end-to-end mail flow through a real Postfix, Dovecot and PostgreSQL"
    )


# The marked blocks of docs/operators.md the stack runs, in order, before starting the
# daemons; then CHECK_STEP once they run.
INSTALL_STEPS = (
    "mail-group",
    "export-maps",
    "apply-roles",
    "install-postfix-tables",
    "apply-main-cf",
    "apply-master-cf",
    "install-dovecot-files",
    "prepare-maildirs",
)
CHECK_STEP = "check-lookups"

_RUN_ID = uuid.uuid4().hex[:8]
POSTFIX_ROLE = f"mailadmin_test_postfix_{_RUN_ID}"
DOVECOT_ROLE = f"mailadmin_test_dovecot_{_RUN_ID}"
PASSWORD = "correct horse battery"
# The one address the guide's check block looks up.
CHECK_ADDRESS = "ann@example.com"
# Clients in mynetworks may relay; the test's "foreign" client connects from 127.0.0.2.
MYNETWORKS = "127.0.0.1/32"
FOREIGN_CLIENT = "127.0.0.2"
# The default sender: an address literal, for which reject_unknown_sender_domain asks no DNS
# (a name would be looked up, and the test stack never leaves the machine).
OUTSIDE_SENDER = "someone@[192.0.2.25]"
# The exported message_size_limit of the test stack (MAILADMIN_MESSAGE_SIZE_LIMIT).
MESSAGE_SIZE_LIMIT = 2_000_000

# Warnings the tests cause on purpose: a wrong SMTP password, the dead database host, a
# message over message_size_limit, a wrong doveadm API key.
EXPECTED_PROBLEMS = (
    "authentication failed",
    "connect to pgsql server inet:127.0.0.1:1:",
    "queue file size limit exceeded",
    "mail_stream_cleanup: close error",
    # test_managesieve.py asks doveadm's HTTP API with a wrong key.
    "Invalid authentication attempt to HTTP API",
)

# The group the guide's mail-group block makes (the same on every run: groupadd is global).
MAIL_GROUP = "mailadmin-mail"


def delivery_env(postfix: PrivatePostfix, managesieve_port: int) -> dict[str, str]:
    """The guide's delivery variables for a private Postfix: Dovecot's LMTP and quota-status
    sockets in its queue, Sieve's replies sent through its port 25."""
    return {
        "LMTP_SOCKET": str(postfix.lmtp_socket),
        "QUOTA_STATUS_SOCKET": str(postfix.quota_status_socket),
        "MAIL_GROUP": MAIL_GROUP,
        "MANAGESIEVE_PORT": str(managesieve_port),
        "SUBMISSION_HOST": f"127.0.0.1:{postfix.smtp_port}",
        # doveadm's HTTP API, which the panel asks for the ManageSieve scripts.
        "DOVEADM_PORT": str(free_loopback_port()),
        "DOVEADM_LISTEN": "127.0.0.1",
    }


def installation_env(
    postfix: PrivatePostfix, work: Path, mail_base: Path, managesieve_port: int
) -> dict[str, str]:
    """The guide's variables that do not depend on the database: the panel's settings, this
    test's Postfix and Dovecot folders, a certificate for them, the roles, the delivery
    sockets. Makes the Dovecot folder and the certificate."""
    dovecot_dir = postfix.root / "dovecot"
    dovecot_dir.mkdir(mode=0o755)
    tls_cert, tls_key = self_signed_certificate(work / "tls")
    return {
        "MAILADMIN_MAIL_BASE": str(mail_base),
        "MAILADMIN_MIN_UID": "1000",
        "MAILADMIN_MESSAGE_SIZE_LIMIT": str(MESSAGE_SIZE_LIMIT),
        "MANAGE": f"{sys.executable} {ROOT / 'manage.py'}",
        "EXPORT_DIR": str(work / "export"),
        "POSTFIX_CONFIG_DIR": str(postfix.config_dir),
        "POSTFIX_TABLES_DIR": str(postfix.tables_dir),
        "DOVECOT_DIR": str(dovecot_dir),
        "DOVECOT_CONF": str(work / "dovecot" / "dovecot.conf"),
        "SASL_SOCKET": str(postfix.sasl_socket),
        "MYNETWORKS": MYNETWORKS,
        "TLS_CERT": str(tls_cert),
        "TLS_KEY": str(tls_key),
        "SUBMISSION_LISTEN": postfix.submission_listen,
        "SUBMISSIONS_LISTEN": postfix.submissions_listen,
        "POSTFIX_ROLE": POSTFIX_ROLE,
        "DOVECOT_ROLE": DOVECOT_ROLE,
        "MAIL_BASE": str(mail_base),
        "CHECK_ADDRESS": CHECK_ADDRESS,
        **delivery_env(postfix, managesieve_port),
    }


def private_dovecot(postfix: PrivatePostfix, work: Path) -> PrivateDovecot:
    """The test's Dovecot with the files the guide installed (auth and delivery), IMAP on a
    free port and LMTP in the Postfix queue; not started yet."""
    dovecot_dir = postfix.root / "dovecot"
    return PrivateDovecot(
        work / "dovecot",
        includes=[
            dovecot_dir / "auth-mailadmin.conf.ext",
            dovecot_dir / "delivery-mailadmin.conf.ext",
        ],
        imap_port=free_loopback_port(),
        lmtp_socket=postfix.lmtp_socket,
    )


DEFAULT_UID, DEFAULT_GID = 5100, 5101
DOMAIN_UID, DOMAIN_GID = 6000, 6001
MAILBOX_UID, MAILBOX_GID = 7000, 7001

# Which owner each seeded mailbox resolves to (mailbox override > domain > server default).
MAILBOXES: dict[str, tuple[int, int, str]] = {
    "ann@example.com": (DOMAIN_UID, DOMAIN_GID, "maildir"),
    "bob@example.com": (MAILBOX_UID, MAILBOX_GID, "maildir"),
    "jane@example.com": (DOMAIN_UID, DOMAIN_GID, "mbox"),
    "postmaster@example.com": (DOMAIN_UID, DOMAIN_GID, "maildir"),
    "flip@example.com": (DOMAIN_UID, DOMAIN_GID, "maildir"),
    "changer@example.com": (DOMAIN_UID, DOMAIN_GID, "maildir"),
    "sender@example.com": (DOMAIN_UID, DOMAIN_GID, "maildir"),
    "count@example.com": (DOMAIN_UID, DOMAIN_GID, "maildir"),
    "carl@plain.example": (DEFAULT_UID, DEFAULT_GID, "maildir"),
    "lena@lmtp.example": (DEFAULT_UID, DEFAULT_GID, "maildir"),
}

SEED = f"""
from domains.services import alias_domain_create, domain_create, server_settings_update
from mailadmin import passwords
from mailboxes.services import alias_create, mailbox_create

server_settings_update(actor=None, default_uid={DEFAULT_UID}, default_gid={DEFAULT_GID})
domain_create(actor=None, name="example.com", uid={DOMAIN_UID}, gid={DOMAIN_GID})
domain_create(actor=None, name="plain.example")  # no owner, no catch-all
domain_create(actor=None, name="lmtp.example")   # switched to Dovecot LMTP by a test
password_hash = passwords.hash_password({PASSWORD!r})
for address, (uid, gid, fmt) in {MAILBOXES!r}.items():
    own = dict(uid={MAILBOX_UID}, gid={MAILBOX_GID}) if uid == {MAILBOX_UID} else {{}}
    mailbox_create(
        actor=None, address=address, password_hash=password_hash, storage_format=fmt, **own
    )
alias_create(
    actor=None, address="team@example.com",
    destinations=["ann@example.com", "carl@plain.example"],
)
alias_create(actor=None, address="@example.com", destinations=["postmaster@example.com"])
alias_domain_create(actor=None, name="alias.example", target="example.com")
"""


class IMAP4From(imaplib.IMAP4):
    """imaplib.IMAP4 connecting from a chosen loopback address.

    Dovecot's anvil slows every later login from an address after a failed one; tests that
    fail a login on purpose do it from an address of their own.
    """

    def __init__(self, host: str, port: int, *, source: str, timeout: float = 30) -> None:
        self._source = source
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection(
            (self.host, self.port), timeout=timeout, source_address=(self._source, 0)
        )


@dataclass
class MailStack:
    db: ContractDB
    postfix: PrivatePostfix
    dovecot: PrivateDovecot
    work: Path
    mail_base: Path
    env: dict[str, str]
    managesieve_port: int = 0
    sent: list[str] = field(default_factory=list)
    check_output: str = ""  # what the guide's check block printed

    @property
    def smtp_port(self) -> int:
        return self.postfix.smtp_port

    @property
    def imap_port(self) -> int:
        assert self.dovecot.imap_port is not None
        return self.dovecot.imap_port

    def python_stdin(self, code: str, stdin: str) -> None:
        """Run Django code against the database with `stdin` (a password stays out of argv)."""
        result = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + code],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.db.env(),
            cwd=ROOT,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def message(self, to: Sequence[str], sender: str = OUTSIDE_SENDER) -> EmailMessage:
        token = f"e2e-{uuid.uuid4().hex}"
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = ", ".join(to)
        msg["Subject"] = token
        msg["Message-ID"] = f"<{token}@mailadmin.test>"
        msg.set_content(f"token {token}\n")
        self.sent.append(token)
        return msg

    def send(
        self,
        to: Sequence[str],
        *,
        sender: str = OUTSIDE_SENDER,
        source: str | None = None,
        login: tuple[str, str] | None = None,
        submission: bool = False,
    ) -> str:
        """Send one message over SMTP; return its token (the Subject). Raises smtplib errors.

        With `submission`, through the submission service (STARTTLS), where SMTP AUTH is.
        """
        msg = self.message(to, sender)
        with self.smtp(source, submission=submission) as smtp:
            if login:
                smtp.login(*login)
            refused = smtp.send_message(msg, from_addr=sender, to_addrs=list(to))
            assert not refused, refused
        return str(msg["Subject"])

    def tls_context(self) -> ssl.SSLContext:
        """Verifies the stack's own self-signed certificate (made for 127.0.0.1)."""
        return ssl.create_default_context(cafile=self.env["TLS_CERT"])

    def smtp(self, source: str | None = None, *, submission: bool = False) -> smtplib.SMTP:
        """An SMTP session after EHLO: port 25, or submission after STARTTLS."""
        port = self.postfix.submission_port if submission else self.smtp_port
        assert port is not None
        source_address = (source, 0) if source else None
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=source_address)
        smtp.ehlo("client.mailadmin.test")
        if submission:
            smtp.starttls(context=self.tls_context())
            smtp.ehlo("client.mailadmin.test")
        return smtp

    def mailbox_path(self, address: str) -> Path:
        local, domain = address.split("@")
        fmt = MAILBOXES[address][2] if address in MAILBOXES else "maildir"
        home = self.mail_base / domain / local
        return home / "mbox" if fmt == "mbox" else home

    def find(self, address: str, token: str) -> Path | None:
        """The file under the mail base that holds message `token` for `address`."""
        path = self.mailbox_path(address)
        if path.name == "mbox":
            return path if path.is_file() and token in path.read_text(errors="replace") else None
        for sub in ("new", "cur"):
            folder = path / sub
            if folder.is_dir():
                for item in folder.iterdir():
                    if token in item.read_text(errors="replace"):
                        return item
        return None

    def messages_of(self, address: str) -> list[EmailMessage]:
        """Every message in the INBOX of the Maildir mailbox `address`, parsed."""
        path = self.mailbox_path(address)
        files = [
            f for sub in ("new", "cur") if (path / sub).is_dir() for f in (path / sub).iterdir()
        ]
        return [
            email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
            for f in sorted(files)
        ]

    def wait_delivered(self, address: str, token: str, timeout: float = 30) -> Path:
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(address, token)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{token} never reached {address}; Postfix log:\n{self.postfix.log()[-5000:]}"
                    f"\nDovecot log:\n{self.dovecot.log()[-2000:]}"
                )
            time.sleep(0.1)

    def wait_queue_empty(self, timeout: float = 30) -> None:
        """Until no message waits for a first delivery attempt (deferred ones may stay)."""
        deadline = time.monotonic() + timeout
        while [m for m in self.postfix.queue() if m["queue_name"] != "deferred"]:
            if time.monotonic() > deadline:
                raise AssertionError(f"the queue did not drain: {self.postfix.queue()}")
            time.sleep(0.1)

    def imap(self, source: str = "127.0.0.1") -> IMAP4From:
        return IMAP4From("127.0.0.1", self.imap_port, source=source)

    def imap_search(self, address: str, password: str, token: str) -> bool:
        with self.imap() as imap:
            imap.login(address, password)
            imap.select("INBOX", readonly=True)
            status, data = imap.search(None, "SUBJECT", f'"{token}"')
            assert status == "OK"
            return bool(data and data[0] and data[0].split())

    def imap_login_ok(self, address: str, password: str, source: str) -> bool:
        try:
            with self.imap(source) as imap:
                imap.login(address, password)
                return True
        except imaplib.IMAP4.error:
            return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailStack]:
    for tool in ("postfix", "postconf", "postmap", "postqueue", "dovecot", "doveadm", "psql"):
        require_tool(tool)
    if os.geteuid() != 0:
        pytest.skip("the mail stack runs as root (Postfix and Dovecot drop privileges)")
    work = tmp_path_factory.mktemp("e2e")
    db = create_contract_db("pgsql", work)
    mail_base = Path(tempfile.mkdtemp(prefix="mailadmin-vmail-"))
    mail_base.chmod(0o755)
    postfix = PrivatePostfix(
        smtp_port=free_loopback_port(),
        submission_port=free_loopback_port(),
        submissions_port=free_loopback_port(),
    )
    dovecot: PrivateDovecot | None = None
    managesieve_port = free_loopback_port()
    try:
        db.python(SEED)
        postfix.create()
        admin = dburl.parse(PGSQL_ADMIN_URL)
        env = db.env(
            PSQL=f"psql -h {admin.host} -p {admin.port or 5432} -U {admin.user}",
            DB_NAME=db.name,
            MAIL_DB_URL=f"postgresql://{db.host}:{db.port}/{db.name}",
            **installation_env(postfix, work, mail_base, managesieve_port),
        )
        for step in INSTALL_STEPS:
            run_doc_block(step, env)
        dovecot = private_dovecot(postfix, work)
        dovecot.start()
        postfix.start()
        stack = MailStack(db, postfix, dovecot, work, mail_base, env, managesieve_port)
        check = run_doc_block(CHECK_STEP, env, stdin=PASSWORD + "\n")
        stack.check_output = check.stdout + check.stderr
        yield stack
        problems = [
            line
            for line in postfix.log_problems() + dovecot.log_problems()
            if not any(expected in line for expected in EXPECTED_PROBLEMS)
        ]
        assert not problems, "Postfix or Dovecot logged problems:\n" + "\n".join(problems)
    finally:
        postfix.stop()
        if dovecot is not None:
            dovecot.stop()
        shutil.rmtree(mail_base, ignore_errors=True)
        try:
            drop_roles(db, (POSTFIX_ROLE, DOVECOT_ROLE))
        finally:
            drop_contract_db(db)
