"""The exported Dovecot configuration, judged by a real Dovecot against each database.

For every dialect: a fresh migrated database is filled through the services, `export_maps`
writes the files, the read-only roles of roles.sql are created (PostgreSQL, MariaDB), and a
private Dovecot (tests/dovecot_harness.py) that includes only the exported
auth-mailadmin.conf.ext answers `doveadm auth test` and `doveadm user`. Passwords reach
doveadm on stdin and the seeding subprocess through a 0600 file, never through argv.
"""

from __future__ import annotations

import imaplib
import json
import os
import pwd
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dovecot_harness import PrivateDovecot, doveadm_pw_hash, free_loopback_port
from tests.support import (
    ContractDB,
    create_contract_db,
    drop_contract_db,
    drop_roles,
    require_tool,
)

pytestmark = pytest.mark.tools

# Roles are server-wide and roles.sql resets their passwords: a name of its own keeps this
# module from undoing a concurrent run's roles (or the contract worlds' of this session,
# tests/contract/conftest.py). Dropped at the end.
_RUN_ID = uuid.uuid4().hex[:8]
POSTFIX_ROLE = f"mailadmin_test_postfix_{_RUN_ID}"
DOVECOT_ROLE = f"mailadmin_test_dovecot_{_RUN_ID}"
DEFAULT_UID, DEFAULT_GID = 5100, 5101
DOMAIN_UID, DOMAIN_GID = 6000, 6001
MAILBOX_UID, MAILBOX_GID = 7000, 7001
GIB = 1024**3
# Every character mailadmin allows in a local part (mailadmin/names.py; not the wildcards * ?).
ODD_ADDRESS = "a!#$&'+=^_`{|}~-.z@example.com"

PASSWORDS = {
    "john@example.com": "Jöhn's pässwörd €42",
    "jane@example.com": "jane-mbox-secret",
    "o'brien@example.com": "o'brien 'quoted' \\ pw",
    ODD_ADDRESS: "every atext character",
    "changer@example.com": "the-old-password",
    "ann@owned.example": "ann-domain-owner",
    "bob@owned.example": "bob-own-uid-gid",
    "off@example.com": "inactive-mailbox",
    "lone@closed.example": "inactive-domain",
    "rel@moved.example": "now-relayed-pw",
    "blf@example.com": "bcrypt-written",
    "sha@example.com": "sha512crypt-written",
    "legacy@example.com": "imported-ssha256",
}
NEW_PASSWORD = "the-new-pässword"

SEED = f"""
import json, sys
from domains.services import domain_create, domain_set_active, domain_update
from domains.services import server_settings_update
from mailadmin import passwords
from mailboxes.services import mailbox_create

with open(sys.argv[1], encoding="utf-8") as fh:
    given = json.load(fh)
pw = given["passwords"]
server_settings_update(actor=None, default_uid={DEFAULT_UID}, default_gid={DEFAULT_GID})
domain_create(actor=None, name="example.com")
domain_create(actor=None, name="owned.example", uid={DOMAIN_UID}, gid={DOMAIN_GID})
closed = domain_create(actor=None, name="closed.example")
moved = domain_create(actor=None, name="moved.example")


def make(address, **kwargs):
    if "password_hash" not in kwargs:
        kwargs["password"] = pw[address]
    mailbox_create(actor=None, address=address, **kwargs)


make("john@example.com", quota=0)
make("jane@example.com", storage_format="mbox", quota={GIB})
make("o'brien@example.com")
make(given["odd_address"])
make("changer@example.com")
make("ann@owned.example")
make("bob@owned.example", uid={MAILBOX_UID}, gid={MAILBOX_GID})
make("off@example.com", active=False)
make("lone@closed.example")
make("rel@moved.example")
for address, scheme in (("blf@example.com", "BLF-CRYPT"), ("sha@example.com", "SHA512-CRYPT")):
    make(address, password_hash=passwords.hash_password(pw[address], scheme))
make("legacy@example.com", password_hash=given["legacy_hash"])
domain_set_active(actor=None, domain=closed, active=False)
domain_update(actor=None, domain=moved, delivery="relay", transport="smtp:[mx.example.net]:25")
"""

SET_PASSWORD = """
import json, sys
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_set_password

with open(sys.argv[1], encoding="utf-8") as fh:
    given = json.load(fh)
mailbox = Mailbox.objects.get(domain__name=given["domain"], local_part=given["local_part"])
mailbox_set_password(actor=None, mailbox=mailbox, password=given["password"])
"""


def run_with_secrets(db: ContractDB, code: str, folder: Path, data: dict[str, object]) -> None:
    """Run `code` with Django against `db`; `data` arrives as the JSON file sys.argv[1]."""
    fd, name = tempfile.mkstemp(prefix="secrets-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp made it 0600
            json.dump(data, fh)
        db.python(f"import sys; sys.argv[1:] = [{name!r}]\n{code}")
    finally:
        Path(name).unlink(missing_ok=True)


def export_url(db: ContractDB) -> str:
    """Where Dovecot reaches the database: no user, no password."""
    if db.dialect == "sqlite":
        return db.url
    scheme = "postgresql" if db.dialect == "pgsql" else "mysql"
    return f"{scheme}://{db.host}:{db.port}/{db.name}"


def export_for_dovecot(db: ContractDB, work: Path, mail_base: Path, roles: tuple[str, str]) -> Path:
    """`export_maps` into work/out for a private Dovecot: the test's roles and SASL socket."""
    out = work / "out"
    db.manage(
        "export_maps",
        "--dialect",
        db.dialect,
        "--out",
        str(out),
        "--db-url",
        export_url(db),
        "--dovecot-dir",
        str(out / "dovecot"),
        "--postfix-dir",
        str(out / "postfix"),
        "--postfix-role",
        roles[0],
        "--dovecot-role",
        roles[1],
        # The default (Postfix's private/auth) belongs to the machine's real Postfix.
        "--sasl-socket",
        str(work / "sasl-auth"),
        MAILADMIN_MAIL_BASE=str(mail_base),
    )
    return out


@dataclass
class Stack:
    db: ContractDB
    dovecot: PrivateDovecot
    out: Path
    mail_base: Path
    work: Path


@pytest.fixture(scope="module", params=["pgsql", "mysql", "sqlite"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    require_tool("dovecot")
    require_tool("doveadm")
    dialect = request.param
    work = tmp_path_factory.mktemp(f"dovecot-{dialect}")
    db = create_contract_db(dialect, work)
    # The mail base must be reachable by the mail uids (for the IMAP test): not under tmp_path.
    mail_base = Path(tempfile.mkdtemp(prefix="mailadmin-vmail-"))
    mail_base.chmod(0o755)
    try:
        legacy_hash = doveadm_pw_hash("SSHA256", PASSWORDS["legacy@example.com"])
        run_with_secrets(
            db,
            SEED,
            work,
            {"passwords": PASSWORDS, "legacy_hash": legacy_hash, "odd_address": ODD_ADDRESS},
        )
        out = export_for_dovecot(db, work, mail_base, (POSTFIX_ROLE, DOVECOT_ROLE))
        if dialect != "sqlite":
            db.execute_admin((out / "sql" / "roles.sql").read_text(encoding="utf-8"))
        dovecot = PrivateDovecot(
            work / "dovecot",
            includes=[out / "dovecot" / "auth-mailadmin.conf.ext"],
            imap_port=free_loopback_port(),
        )
        with dovecot:
            yield Stack(db, dovecot, out, mail_base, work)
            problems = dovecot.log_problems()
        assert not problems, "Dovecot logged problems:\n" + "\n".join(problems)
    finally:
        shutil.rmtree(mail_base, ignore_errors=True)
        try:
            drop_roles(db, (POSTFIX_ROLE, DOVECOT_ROLE))
        finally:
            drop_contract_db(db)


def test_dovecot_reads_through_the_read_only_role(stack: Stack) -> None:
    conf = (stack.out / "dovecot" / "dovecot-sql.conf.ext").read_text(encoding="utf-8")
    auth = (stack.out / "dovecot" / "auth-mailadmin.conf.ext").read_text(encoding="utf-8")
    assert f"driver = {stack.db.dialect}\n" in conf
    assert f"args = {stack.out}/dovecot/dovecot-sql.conf.ext\n" in auth
    assert f"unix_listener {stack.work}/sasl-auth {{" in auth
    if stack.db.dialect == "sqlite":
        assert f"connect = {stack.db.name}\n" in conf
    else:
        role_password = json.loads((stack.out / ".mailadmin-secrets.json").read_text())[
            DOVECOT_ROLE
        ]
        assert f" user={DOVECOT_ROLE} password={role_password}\n" in conf
    # The exported SASL listener exists and belongs to Postfix.
    socket_stat = (stack.work / "sasl-auth").stat()
    assert stat.S_ISSOCK(socket_stat.st_mode)
    assert stat.S_IMODE(socket_stat.st_mode) == 0o660
    assert socket_stat.st_uid == pwd.getpwnam("postfix").pw_uid


@pytest.mark.parametrize(
    "address",
    [
        "john@example.com",  # non-ASCII password, ARGON2ID (the default)
        "jane@example.com",
        "o'brien@example.com",  # quotes in the login and the password
        ODD_ADDRESS,
        "ann@owned.example",
        "bob@owned.example",
        "blf@example.com",  # BLF-CRYPT written by mailadmin
        "sha@example.com",  # SHA512-CRYPT written by mailadmin
        "legacy@example.com",  # SSHA256 made by doveadm, imported as it is
    ],
)
def test_right_password_authenticates(stack: Stack, address: str) -> None:
    result = stack.dovecot.auth_test(address, PASSWORDS[address])
    assert result.ok, result.output
    assert result.fields["user"] == address


@pytest.mark.parametrize("login", ["John@Example.COM", "JOHN@EXAMPLE.COM", "john@EXAMPLE.com"])
def test_login_in_odd_case_is_the_canonical_user(stack: Stack, login: str) -> None:
    result = stack.dovecot.auth_test(login, PASSWORDS["john@example.com"])
    assert result.ok, result.output
    assert result.fields["user"] == "john@example.com"


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("john@example.com", "Jöhn's pässwörd €43"),
        ("john@example.com", "jöhn's pässwörd €42"),  # case matters in passwords
        ("john@example.com", PASSWORDS["jane@example.com"]),  # another mailbox's password
        ("john@example.com", ""),
        ("jane@example.com", PASSWORDS["john@example.com"]),
        ("blf@example.com", PASSWORDS["blf@example.com"] + "x"),
        ("sha@example.com", PASSWORDS["sha@example.com"][:-1]),
        ("legacy@example.com", "imported-ssha25"),
    ],
)
def test_wrong_password_is_rejected(stack: Stack, login: str, password: str) -> None:
    result = stack.dovecot.auth_test(login, password)
    assert not result.ok, result.output
    assert result.returncode == 77, result.output  # EX_NOPERM: "auth failed"


@pytest.mark.parametrize(
    "address",
    ["off@example.com", "lone@closed.example", "rel@moved.example"],
    ids=["inactive-mailbox", "inactive-domain", "domain-now-relayed"],
)
def test_mailbox_that_may_not_log_in_is_rejected(stack: Stack, address: str) -> None:
    result = stack.dovecot.auth_test(address, PASSWORDS[address])
    assert not result.ok, result.output
    assert stack.dovecot.user(address) is None


@pytest.mark.parametrize(
    "login",
    [
        "nobody@example.com",
        "john",  # no domain
        "john@",
        "@example.com",
        "john@example.org",
        "john@example.com'--",
        "x' OR '1'='1@example.com",
        "john@example.com' OR '1'='1",
        "john%@example.com",
    ],
)
def test_unknown_or_malformed_login_is_rejected(stack: Stack, login: str) -> None:
    result = stack.dovecot.auth_test(login, PASSWORDS["john@example.com"])
    assert not result.ok, result.output


def test_userdb_maildir_default_owner_no_quota(stack: Stack) -> None:
    fields = stack.dovecot.user("john@example.com")
    base = stack.mail_base
    assert fields == {
        "uid": str(DEFAULT_UID),
        "gid": str(DEFAULT_GID),
        "home": f"{base}/example.com/john",
        "mail": f"maildir:{base}/example.com/john/",
        # The owner's language for the quota warnings: "" until they log in to /me/.
        "mailadmin_language": "",
    }


def test_userdb_mbox_with_quota(stack: Stack) -> None:
    fields = stack.dovecot.user("jane@example.com")
    base = stack.mail_base
    assert fields == {
        "uid": str(DEFAULT_UID),
        "gid": str(DEFAULT_GID),
        "home": f"{base}/example.com/jane",
        "mail": f"mbox:~/mail:INBOX={base}/example.com/jane/mbox",
        "quota_rule": f"*:bytes={GIB}",
        "mailadmin_language": "",
    }


@pytest.mark.parametrize(
    ("address", "uid", "gid"),
    [
        ("john@example.com", DEFAULT_UID, DEFAULT_GID),  # server default
        ("ann@owned.example", DOMAIN_UID, DOMAIN_GID),  # the domain's
        ("bob@owned.example", MAILBOX_UID, MAILBOX_GID),  # the mailbox's own
    ],
)
def test_userdb_owner_is_mailbox_then_domain_then_default(
    stack: Stack, address: str, uid: int, gid: int
) -> None:
    fields = stack.dovecot.user(address)
    assert fields is not None
    assert (fields["uid"], fields["gid"]) == (str(uid), str(gid))


def test_userdb_lookup_in_odd_case(stack: Stack) -> None:
    odd = stack.dovecot.user("Ann@Owned.EXAMPLE")
    assert odd is not None
    # Dovecot names the canonical user when the login was changed by auth_username_format.
    assert odd.pop("user") == "ann@owned.example"
    assert odd == stack.dovecot.user("ann@owned.example")


def test_userdb_has_no_unknown_user(stack: Stack) -> None:
    assert stack.dovecot.user("nobody@example.com") is None


def test_password_change_takes_effect_at_once(stack: Stack) -> None:
    address = "changer@example.com"
    old = PASSWORDS[address]
    assert stack.dovecot.auth_test(address, old).ok
    local_part, domain = address.split("@")
    run_with_secrets(
        stack.db,
        SET_PASSWORD,
        stack.work,
        {"domain": domain, "local_part": local_part, "password": NEW_PASSWORD},
    )
    # Same running Dovecot, no reload: the next lookup sees the new hash.
    new_result = stack.dovecot.auth_test(address, NEW_PASSWORD)
    assert new_result.ok, new_result.output
    assert not stack.dovecot.auth_test(address, old).ok


def test_imap_login_over_loopback(stack: Stack) -> None:
    """The harness's IMAP listener works end to end (the base of later IMAP tests)."""
    address = "bob@owned.example"
    owner_dir = stack.mail_base / "owned.example"
    owner_dir.mkdir(exist_ok=True)
    os.chown(owner_dir, MAILBOX_UID, MAILBOX_GID)
    assert stack.dovecot.imap_port is not None
    with imaplib.IMAP4("127.0.0.1", stack.dovecot.imap_port, timeout=30) as imap:
        assert imap.login(address, PASSWORDS[address])[0] == "OK"
        assert imap.select("INBOX")[0] == "OK"
    # Last: anvil slows later logins from 127.0.0.1 after a failed one.
    with (
        imaplib.IMAP4("127.0.0.1", stack.dovecot.imap_port, timeout=30) as imap,
        pytest.raises(imaplib.IMAP4.error),
    ):
        imap.login(address, "not-" + PASSWORDS[address])
    maildir = stack.mail_base / "owned.example" / "bob"
    assert (maildir / "cur").is_dir()
    assert maildir.stat().st_uid == MAILBOX_UID
