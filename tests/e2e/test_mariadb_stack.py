"""MariaDB end to end: Postfix and Dovecot read it, Dovecot delivers and writes the usage back.

The stack is built by the MariaDB steps of docs/operators.md, read from the guide and run as
written: the database and the panel's own account (`mariadb` as the server's root, then
`migrate` as the panel), the export with --dialect mysql, roles.sql through the mariadb client,
then the guide's Postfix, Dovecot and mail-directory steps shared with PostgreSQL
(tests/e2e/conftest.py). Postfix's tables are proxy:mysql:, Dovecot's passdb, userdb and dict
use its mysql driver; quota_clone writes mailadmin_quota_usage through that dict as the
Dovecot role, which may write that table and no other.

The panel's account, the database and the two roles are this run's own (per-run names) and
are dropped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import smtplib
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailadmin import dburl
from tests.dovecot_harness import free_loopback_port
from tests.e2e.conftest import (
    CHECK_ADDRESS,
    DOMAIN_GID,
    DOMAIN_UID,
    DOVECOT_ROLE,
    FOREIGN_CLIENT,
    MAILBOX_GID,
    MAILBOX_UID,
    PASSWORD,
    POSTFIX_ROLE,
    SEED,
    MailStack,
    installation_env,
    private_dovecot,
)
from tests.e2e.conftest import INSTALL_STEPS as PGSQL_INSTALL_STEPS
from tests.e2e.test_quota import doveadm_quota, kib, send_sized, wait_usage
from tests.postfix_harness import PrivatePostfix, doc_blocks, run_doc_block, wait_for
from tests.support import MYSQL_ADMIN_URL, ContractDB, drop_contract_db, require_tool

pytestmark = [pytest.mark.tools, pytest.mark.e2e]

# The marked blocks of docs/operators.md, in order: the database and the panel's account
# (with migrate), the seed (through the services, as the panel would), then the PostgreSQL
# stack's steps with the MariaDB export and roles in place of PostgreSQL's.
DATABASE_STEP = "mariadb-database"
MARIADB_STEPS = {"export-maps": "mariadb-export-maps", "apply-roles": "mariadb-apply-roles"}
INSTALL_STEPS = tuple(MARIADB_STEPS.get(step, step) for step in PGSQL_INSTALL_STEPS)
CHECK_STEP = "mariadb-check-lookups"

_RUN_ID = uuid.uuid4().hex[:8]
PANEL_DB_USER = f"mailadmin_test_panel_{_RUN_ID}"
# MariaDB's "command denied to user" (a privilege the account does not hold).
COMMAND_DENIED = "ERROR 1142"

QUOTA_SEED = f"""
from mailadmin import passwords
from mailboxes.services import mailbox_create
password_hash = passwords.hash_password({PASSWORD!r})
for address, quota in (("full@example.com", 20000), ("roomy@example.com", 10_000_000),
                       ("usage@plain.example", 1_000_000), ("shown@plain.example", 1_000_000)):
    mailbox_create(actor=None, address=address, password_hash=password_hash, quota=quota)
"""

SET_ACTIVE = """
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_set_active
mailbox = Mailbox.objects.get(domain__name={domain!r}, local_part={local!r})
mailbox_set_active(actor=None, mailbox=mailbox, active={active!r})
"""


def _admin_connect(admin: dburl.DatabaseURL) -> object:
    import MySQLdb

    return MySQLdb.connect(host=admin.host, port=admin.port or 3306, user=admin.user)


def drop_accounts(admin: dburl.DatabaseURL, accounts: tuple[str, ...]) -> None:
    """Drop this run's MariaDB accounts ('name'@'host'), whether or not they were made."""
    conn = _admin_connect(admin)
    try:
        cursor = conn.cursor()  # type: ignore[attr-defined]
        for account in accounts:
            cursor.execute(f"DROP USER IF EXISTS {account}")
    finally:
        conn.close()  # type: ignore[attr-defined]


def panel_url(path: Path) -> str:
    """The DATABASE_URL the guide's database step wrote into the panel's environment file."""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "the file holds the panel's password"
    lines = [line for line in path.read_text().splitlines() if line.startswith("DATABASE_URL=")]
    assert len(lines) == 1, lines
    return lines[0].removeprefix("DATABASE_URL=")


class MariaDBStack(MailStack):
    def secrets(self) -> dict[str, str]:
        path = Path(self.env["EXPORT_DIR"]) / ".mailadmin-secrets.json"
        passwords: dict[str, str] = json.loads(path.read_text())
        return passwords

    def mariadb_as(self, role: str, sql: str) -> subprocess.CompletedProcess[str]:
        """`sql` run by the mariadb client logged in as `role` over TCP, as Postfix and
        Dovecot log in; the password in an option file (mode 0600), never in argv."""
        option_file = self.work / f"{role}.cnf"
        option_file.touch(mode=0o600)
        option_file.write_text(f"[client]\npassword={self.secrets()[role]}\n")
        url = dburl.parse(self.env["MAIL_DB_URL"])
        return subprocess.run(
            [
                require_tool("mariadb"),
                f"--defaults-extra-file={option_file}",
                "-h",
                url.host,
                "-P",
                str(url.port or 3306),
                "-u",
                role,
                "-B",
                "-N",
                url.name,
            ],
            input=sql,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def maria_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBStack]:
    for tool in ("postfix", "postconf", "postmap", "postqueue", "dovecot", "doveadm", "mariadb"):
        require_tool(tool)
    if os.geteuid() != 0:
        pytest.skip("the mail stack runs as root (Postfix and Dovecot drop privileges)")
    admin = dburl.parse(MYSQL_ADMIN_URL)
    if admin.host not in ("127.0.0.1", "localhost"):
        pytest.skip(f"the panel's account is 'localhost': MariaDB must run here, not {admin.host}")
    try:
        _admin_connect(admin).close()  # type: ignore[attr-defined]
    except Exception as exc:
        pytest.skip(f"MariaDB is not reachable at {MYSQL_ADMIN_URL}: {exc}")
    work = tmp_path_factory.mktemp("e2e-mariadb")
    name = f"mailadmin_ct_{uuid.uuid4().hex[:10]}"
    port = admin.port or 3306
    # The panel's URL (its account, with the password the guide's step makes) comes later.
    db = ContractDB("mysql", name, "", admin.host, port)
    mail_base = Path(tempfile.mkdtemp(prefix="mailadmin-vmail-"))
    mail_base.chmod(0o755)
    postfix = PrivatePostfix(
        smtp_port=free_loopback_port(),
        submission_port=free_loopback_port(),
        submissions_port=free_loopback_port(),
    )
    dovecot = None
    try:
        postfix.create()
        env = db.env(
            MARIADB=f"mariadb -h {admin.host} -P {port} -u {admin.user}",
            DB_NAME=name,
            PANEL_DB_USER=PANEL_DB_USER,
            PANEL_ENV=str(work / "panel.env"),
            MAIL_DB_URL=f"mysql://{admin.host}:{port}/{name}",
            **installation_env(postfix, work, mail_base, free_loopback_port()),
        )
        run_doc_block(DATABASE_STEP, env)
        db.url = env["DATABASE_URL"] = panel_url(Path(env["PANEL_ENV"]))
        db.python(SEED + QUOTA_SEED)
        for step in INSTALL_STEPS:
            run_doc_block(step, env)
        dovecot = private_dovecot(postfix, work)
        dovecot.start()
        postfix.start()
        stack = MariaDBStack(db, postfix, dovecot, work, mail_base, env)
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
        try:
            drop_accounts(
                admin,
                (
                    f"'{POSTFIX_ROLE}'@'%'",
                    f"'{DOVECOT_ROLE}'@'%'",
                    f"'{PANEL_DB_USER}'@'localhost'",
                ),
            )
        finally:
            drop_contract_db(db)


def test_guide_has_the_mariadb_blocks() -> None:
    blocks = doc_blocks()
    for name in (DATABASE_STEP, *INSTALL_STEPS, CHECK_STEP):
        assert blocks.get(name, "").strip(), f"docs/operators.md has no block {name!r}"


def test_guide_check_block_passed(maria_stack: MariaDBStack) -> None:
    output = maria_stack.check_output
    assert "example.com/ann/" in output  # postmap -q through proxy:mysql:
    assert f"uid\t{DOMAIN_UID}" in output  # doveadm user
    assert f"passdb: {CHECK_ADDRESS} auth succeeded" in output  # doveadm auth test


def test_the_panel_owns_the_database_and_the_mail_roles_read_it_over_tcp(
    maria_stack: MariaDBStack,
) -> None:
    """The guide's accounts: the panel migrated as itself; the exported files log in as the
    two roles, Dovecot's dict (quota_clone) as the Dovecot role."""
    panel = dburl.parse(maria_stack.db.url)
    assert (panel.user, panel.host, panel.name) == (PANEL_DB_USER, "localhost", maria_stack.db.name)
    tables = Path(maria_stack.env["POSTFIX_TABLES_DIR"])
    dovecot_dir = Path(maria_stack.env["DOVECOT_DIR"])
    assert f"\nuser = {POSTFIX_ROLE}\n" in (tables / "virtual_mailbox_maps.cf").read_text()
    for conf in ("dovecot-sql.conf.ext", "dovecot-dict-sql.conf.ext"):
        assert f" user={DOVECOT_ROLE} " in (dovecot_dir / conf).read_text(), conf
    assert "driver = mysql" in (dovecot_dir / "dovecot-sql.conf.ext").read_text()
    definers = maria_stack.db.python(
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('SELECT DISTINCT definer FROM information_schema.views'\n"
        "              ' WHERE table_schema = DATABASE()')\n"
        "    print(sorted(row[0] for row in c.fetchall()))"
    ).stdout.strip()
    assert definers == repr([f"{PANEL_DB_USER}@localhost"])


@pytest.mark.parametrize(
    ("address", "uid", "gid"),
    [
        ("ann@example.com", DOMAIN_UID, DOMAIN_GID),  # Maildir, the domain's owner
        ("bob@example.com", MAILBOX_UID, MAILBOX_GID),  # Maildir, the mailbox's own owner
        ("jane@example.com", DOMAIN_UID, DOMAIN_GID),  # an mbox file
    ],
)
def test_lmtp_delivers_into_the_mailbox_owned_by_its_uid(
    maria_stack: MariaDBStack, address: str, uid: int, gid: int
) -> None:
    token = maria_stack.send([address])
    path = maria_stack.wait_delivered(address, token)
    local, domain = address.split("@")
    home = maria_stack.mail_base / domain / local
    if address.startswith("jane@"):
        assert path == home / "mbox" and path.read_text().startswith("From ")
    else:
        assert path.parent == home / "new"
    info = path.stat()
    assert (info.st_uid, info.st_gid) == (uid, gid)
    wait_for(
        lambda: any(
            f"to=<{address}>, relay=" in line and "dovecot-lmtp" in line and "Saved" in line
            for line in maria_stack.postfix.log().splitlines()
        ),
        "the LMTP delivery log line",
        log=maria_stack.postfix.log,
    )
    assert maria_stack.imap_search(address, PASSWORD, token)


def test_the_panels_sieve_script_read_through_the_dict_files_spam_into_junk(
    maria_stack: MariaDBStack,
) -> None:
    """sieve_before reads the panel's script from mailadmin_dovecot_sieve through the MariaDB
    dict; a mailbox without rules runs the default one (spam-flagged mail to Junk)."""
    msg = maria_stack.message(["ann@example.com"])
    msg["X-Spam-Flag"] = "YES"
    with maria_stack.smtp() as smtp:
        assert not smtp.send_message(msg)
    token = str(msg["Subject"])
    junk = maria_stack.mail_base / "example.com" / "ann" / ".Junk"

    def in_junk() -> bool:
        folders = [junk / sub for sub in ("new", "cur") if (junk / sub).is_dir()]
        return any(token in f.read_text(errors="replace") for d in folders for f in d.iterdir())

    wait_for(in_junk, "the spam-flagged message in Junk", log=maria_stack.dovecot.log)
    assert maria_stack.find("ann@example.com", token) is None  # not in the INBOX


def test_a_disabled_mailbox_is_refused_at_rcpt(maria_stack: MariaDBStack) -> None:
    address = "flip@example.com"
    maria_stack.db.python(SET_ACTIVE.format(domain="example.com", local="flip", active=False))
    try:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            maria_stack.send([address])
        code, text = caught.value.recipients[address]
        assert code == 550 and b"Mailbox disabled" in text, text
        assert not maria_stack.dovecot.auth_test(address, PASSWORD).ok
    finally:
        maria_stack.db.python(SET_ACTIVE.format(domain="example.com", local="flip", active=True))
    token = maria_stack.send([address])
    maria_stack.wait_delivered(address, token)


def test_a_full_mailbox_is_refused_at_rcpt_and_one_below_its_quota_accepts(
    maria_stack: MariaDBStack,
) -> None:
    """From a client outside mynetworks, as mail from the Internet comes."""
    # 13 kB of a 20 kB quota, then 7 kB more: within the 10% grace, taken (about 104%).
    for size in (13000, 7000):
        token = send_sized(maria_stack, "full@example.com", size, source=FOREIGN_CLIENT)
        maria_stack.wait_delivered("full@example.com", token)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send_sized(maria_stack, "full@example.com", 100, source=FOREIGN_CLIENT)
    code, text = refused.value.recipients["full@example.com"]
    assert code == 552, text
    assert text.decode() == "5.2.2 <full@example.com>: Recipient address rejected: Mailbox is full"
    token = send_sized(maria_stack, "roomy@example.com", 5000, source=FOREIGN_CLIENT)
    maria_stack.wait_delivered("roomy@example.com", token)


def test_usage_in_the_database_equals_what_dovecot_counts(maria_stack: MariaDBStack) -> None:
    for size in (3000, 40000, 7000):
        token = send_sized(maria_stack, "usage@plain.example", size)
        maria_stack.wait_delivered("usage@plain.example", token)
    used, messages, permille = wait_usage(maria_stack, "usage@plain.example", 3)
    counted = doveadm_quota(maria_stack, "usage@plain.example")
    assert counted["MESSAGE"][0] == messages == 3
    assert counted["STORAGE"][0] == kib(used)
    assert permille == used * 1000 // 1_000_000  # the table's trigger, as the panel's account


def test_the_cli_shows_the_used_bytes(maria_stack: MariaDBStack) -> None:
    token = send_sized(maria_stack, "shown@plain.example", 4000)
    maria_stack.wait_delivered("shown@plain.example", token)
    used = wait_usage(maria_stack, "shown@plain.example", 1)[0]
    assert used > 4000
    output = maria_stack.db.manage("mailbox", "show", "shown@plain.example").stdout
    used_lines = [line for line in output.splitlines() if line.startswith("used:")]
    assert len(used_lines) == 1, output
    assert f"{used} bytes" in used_lines[0].replace(",", ""), output


def test_the_postfix_role_cannot_write_the_usage_table(maria_stack: MariaDBStack) -> None:
    reads = maria_stack.mariadb_as(
        POSTFIX_ROLE, "SELECT maildir FROM mailadmin_postfix_mailbox WHERE local_part = 'ann';"
    )
    assert reads.returncode == 0 and reads.stdout.strip() == "example.com/ann/", reads.stderr
    for sql in (
        "INSERT INTO mailadmin_quota_usage (username, bytes, messages)"
        " VALUES ('ann@example.com', 1, 1);",
        "UPDATE mailadmin_quota_usage SET bytes = 0;",
    ):
        refused = maria_stack.mariadb_as(POSTFIX_ROLE, sql)
        assert refused.returncode != 0 and COMMAND_DENIED in refused.stderr, (sql, refused)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE mailboxes_mailbox SET quota = 0;",
        "UPDATE mailboxes_mailboxlogin SET language = 'uk';",
        "INSERT INTO sieve_sievescript (mailbox_id, data_id, script, updated_at)"
        " VALUES (1, 'x', 'keep;', NOW());",
        "DELETE FROM mailadmin_quota_usage;",
    ],
    ids=["mailbox", "login", "sieve-script", "delete-usage"],
)
def test_the_dovecot_role_writes_the_usage_table_and_nothing_else(
    maria_stack: MariaDBStack, sql: str
) -> None:
    # What quota_clone does (an upsert of the usage row) is allowed...
    allowed = maria_stack.mariadb_as(
        DOVECOT_ROLE,
        "INSERT INTO mailadmin_quota_usage (username, bytes, messages)"
        " VALUES ('nobody@plain.example', 0, 0)"
        " ON DUPLICATE KEY UPDATE bytes = VALUES(bytes), messages = VALUES(messages);",
    )
    assert allowed.returncode == 0, allowed.stderr
    # ...every other write is refused.
    refused = maria_stack.mariadb_as(DOVECOT_ROLE, sql)
    assert refused.returncode != 0 and COMMAND_DENIED in refused.stderr, refused


def test_the_dovecot_role_cannot_move_a_usage_row_to_another_mailbox(
    maria_stack: MariaDBStack,
) -> None:
    """Its grants cover username, bytes and messages only: the mailbox, its domain and the
    share of the quota are the triggers' (the panel's rights), derived again at every write."""
    upsert = (
        "INSERT INTO mailadmin_quota_usage (username, bytes, messages)"
        " VALUES ('carl@plain.example', 2048, 2)"
        " ON DUPLICATE KEY UPDATE bytes = VALUES(bytes), messages = VALUES(messages);"
    )
    derived = (
        "SELECT mailbox_id, domain_id, permille FROM mailadmin_quota_usage"
        " WHERE username = 'carl@plain.example';"
    )
    written = maria_stack.mariadb_as(DOVECOT_ROLE, upsert + derived)
    assert written.returncode == 0, written.stderr
    resolved = written.stdout.split()
    assert len(resolved) == 3 and "NULL" not in resolved[:2], resolved
    tamper = (
        "UPDATE mailadmin_quota_usage SET mailbox_id = NULL, domain_id = domain_id + 1,"
        " permille = 999 WHERE username = 'carl@plain.example';"
    )
    moved = maria_stack.mariadb_as(DOVECOT_ROLE, tamper)
    assert moved.returncode != 0 and "ERROR 1143" in moved.stderr, moved.stderr
    assert maria_stack.mariadb_as(DOVECOT_ROLE, derived).stdout.split() == resolved
