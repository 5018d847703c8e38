"""A domain admin never reaches another domain's mail: judged by the real Dovecot.

The attack: a domain admin of a.test imports a mailbox whose path carries Dovecot's INBOX=
parameter into b.test's mailbox, with that mailbox's uid/gid. For PostgreSQL and MariaDB, the
import (`manage.py import_csv --as alice`, the same importer as the panel) is refused and
leaves no user behind; and when such a row is written behind every rule (constraints dropped,
raw SQL), the exported user_query still answers nothing for it, so neither `doveadm user` nor an
IMAP login reaches bob's INBOX.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.contract.test_dovecot_auth import export_for_dovecot, run_with_secrets
from tests.dovecot_harness import PrivateDovecot, free_loopback_port
from tests.support import ContractDB, create_contract_db, drop_contract_db, drop_roles, require_tool

pytestmark = pytest.mark.tools

_RUN_ID = uuid.uuid4().hex[:8]
POSTFIX_ROLE = f"mailadmin_xt_postfix_{_RUN_ID}"
DOVECOT_ROLE = f"mailadmin_xt_dovecot_{_RUN_ID}"
BOB_UID = 5001
SPY_PASSWORD = "spy-password-1"
PASSWORDS = {"bob@b.test": "bob-password-1", "spy@a.test": SPY_PASSWORD}

SEED = """
import json, sys
from django.contrib.auth import get_user_model
from domains.services import domain_create
from mailboxes.services import mailbox_create

with open(sys.argv[1], encoding="utf-8") as fh:
    pw = json.load(fh)
a = domain_create(actor=None, name="a.test")
domain_create(actor=None, name="b.test")
mailbox_create(actor=None, address="bob@b.test", password=pw["bob@b.test"], uid=5001, gid=5001)
a.admins.add(get_user_model().objects.create_user(username="alice", password=pw["spy@a.test"]))
"""


@dataclass
class World:
    db: ContractDB
    dovecot: PrivateDovecot
    mail_base: Path
    work: Path

    def import_as_alice(self, csv_text: str):
        path = self.work / f"import-{uuid.uuid4().hex[:6]}.csv"
        path.write_text(csv_text, encoding="utf-8")
        path.chmod(0o600)
        return self.db.manage(
            "import_csv", str(path), "--as", "alice", "--no-progress", check=False
        )

    def imap_inbox_count(self, address: str, password: str) -> int:
        assert self.dovecot.imap_port is not None
        with imaplib.IMAP4("127.0.0.1", self.dovecot.imap_port, timeout=30) as imap:
            imap.login(address, password)
            status, data = imap.select("INBOX")
            assert status == "OK", data
            return int(data[0] or b"0")


@pytest.fixture(scope="module", params=["pgsql", "mysql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    require_tool("dovecot")
    require_tool("doveadm")
    work = tmp_path_factory.mktemp(f"xtenant-{request.param}")
    db = create_contract_db(request.param, work)
    mail_base = Path(tempfile.mkdtemp(prefix="mailadmin-vmail-"))
    mail_base.chmod(0o755)
    try:
        run_with_secrets(db, SEED, work, dict[str, object](PASSWORDS))
        _deliver_one_message(mail_base / "b.test" / "bob")
        out = export_for_dovecot(db, work, mail_base, (POSTFIX_ROLE, DOVECOT_ROLE))
        db.execute_admin((out / "sql" / "roles.sql").read_text(encoding="utf-8"))
        dovecot = PrivateDovecot(
            work / "dovecot",
            includes=[out / "dovecot" / "auth-mailadmin.conf.ext"],
            imap_port=free_loopback_port(),
        )
        with dovecot:
            yield World(db, dovecot, mail_base, work)
    finally:
        shutil.rmtree(mail_base, ignore_errors=True)
        try:
            drop_roles(db, (POSTFIX_ROLE, DOVECOT_ROLE))
        finally:
            drop_contract_db(db)


def _deliver_one_message(maildir: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / "1.bob.test").write_text(
        "From: boss@b.test\r\nTo: bob@b.test\r\nSubject: payroll\r\n\r\nfor bob only\r\n"
    )
    os.chown(maildir.parent, BOB_UID, BOB_UID)
    for path in [maildir, *maildir.rglob("*")]:
        os.chown(path, BOB_UID, BOB_UID)


@pytest.mark.parametrize(
    "row",
    [
        "a.test/spy:INBOX={base}/b.test/bob/,5001,5001",  # the tester's file
        "a.test/spy:INBOX={base}/b.test/bob/,,",  # one shared vmail uid: the path alone
        "b.test/bob/,,",  # straight into the other domain
        "a.test/spy/,5001,5001",  # bob's owner on a path of its own
    ],
    ids=["inbox-param-and-owner", "inbox-param", "foreign-path", "foreign-owner"],
)
def test_cross_tenant_import_is_refused_and_leaves_no_user(world: World, row: str) -> None:
    csv_text = (
        "type,name,password,maildir,uid,gid\n"
        f"mailbox,spy@a.test,{SPY_PASSWORD},{row.format(base=world.mail_base)}\n"
    )
    result = world.import_as_alice(csv_text)
    assert result.returncode != 0, result.stdout
    assert "line 2:" in result.stderr, result.stderr
    assert world.dovecot.user("spy@a.test") is None
    assert not world.dovecot.auth_test("spy@a.test", SPY_PASSWORD).ok


def test_a_clean_import_by_the_domain_admin_stays_in_its_domain(world: World) -> None:
    result = world.import_as_alice(f"type,name,password\nmailbox,carol@a.test,{SPY_PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    fields = world.dovecot.user("carol@a.test")
    assert fields is not None
    assert fields["mail"] == f"maildir:{world.mail_base}/a.test/carol/"
    assert fields["uid"] != str(BOB_UID)


def test_a_path_written_behind_every_rule_carries_no_parameter(world: World) -> None:
    """Constraints dropped, the row written by raw SQL: Dovecot still answers no such user."""
    db = world.db
    world.db.python(
        "from mailboxes.services import mailbox_create\n"
        f"mailbox_create(actor=None, address='spy@a.test', password={SPY_PASSWORD!r})\n"
    )
    if db.dialect == "pgsql":
        drop = (
            "ALTER TABLE mailboxes_mailbox DROP CONSTRAINT IF EXISTS mailbox_path_plain;\n"
            "DROP INDEX IF EXISTS mailbox_path_unique;\n"
        )
    else:
        drop = (
            "ALTER TABLE mailboxes_mailbox DROP CONSTRAINT IF EXISTS mailbox_path_plain;\n"
            "DROP INDEX IF EXISTS mailbox_path_unique ON mailboxes_mailbox;\n"
        )
    attack = f"a.test/spy:INBOX={world.mail_base}/b.test/bob/"
    db.execute_admin(
        drop + "UPDATE mailboxes_mailbox SET uid = 5001, gid = 5001, "  # noqa: S608 - test data
        f"path = '{attack}' WHERE local_part = 'spy';\n"
    )
    assert world.dovecot.user("spy@a.test") is None
    with pytest.raises(imaplib.IMAP4.error):
        world.imap_inbox_count("spy@a.test", SPY_PASSWORD)
    # Bob's mail is where it was, and bob still reads it.
    assert world.imap_inbox_count("bob@b.test", PASSWORDS["bob@b.test"]) == 1
