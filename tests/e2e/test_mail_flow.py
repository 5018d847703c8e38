"""Mail flows end to end: SMTP in, files on disk and IMAP out, through the exported config.

The stack (tests/e2e/conftest.py) is one real Postfix and one real Dovecot, configured only by
the files export_maps wrote and the steps of docs/operators.md, reading a PostgreSQL contract
database through the read-only roles. Changes go through the services layer, in a
subprocess, as the panel would make them; no test reloads Postfix or Dovecot to see them,
except the fail-over test, which installs other table files.
"""

from __future__ import annotations

import shutil
import smtplib
import stat
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.dovecot_harness import PrivateDovecot
from tests.e2e.conftest import (
    CHECK_ADDRESS,
    CHECK_STEP,
    DEFAULT_GID,
    DEFAULT_UID,
    DOMAIN_GID,
    DOMAIN_UID,
    FOREIGN_CLIENT,
    INSTALL_STEPS,
    MAILBOX_GID,
    MAILBOX_UID,
    PASSWORD,
    POSTFIX_ROLE,
    MailStack,
)
from tests.postfix_harness import doc_blocks, run_doc_block, wait_for
from tests.support import _pg_conninfo

pytestmark = [pytest.mark.tools, pytest.mark.e2e]

# The marked blocks of docs/operators.md the harness runs (tests/e2e/conftest.py).
HARNESS_BLOCKS = {*INSTALL_STEPS, CHECK_STEP}

SET_ACTIVE = """
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_set_active
mailbox = Mailbox.objects.get(domain__name={domain!r}, local_part={local!r})
mailbox_set_active(actor=None, mailbox=mailbox, active={active!r})
"""

SET_PASSWORD = """
import sys
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_set_password
mailbox = Mailbox.objects.get(domain__name={domain!r}, local_part={local!r})
mailbox_set_password(actor=None, mailbox=mailbox, password=sys.stdin.readline().rstrip("\\n"))
"""

SET_TRANSPORT = """
from domains.models import Domain
from domains.services import domain_update
domain_update(actor=None, domain=Domain.objects.get(name={domain!r}), transport={transport!r})
"""


def owner(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_uid, info.st_gid


def refused_code(exc: smtplib.SMTPRecipientsRefused, address: str) -> tuple[int, str]:
    code, text = exc.recipients[address]
    return code, text.decode(errors="replace")


# -- the guide and the harness ---------------------------------------------------------------


def test_guide_has_every_block_the_harness_runs() -> None:
    """A marker removed from docs/operators.md would silently drop a step from the test."""
    blocks = doc_blocks()
    assert set(blocks) >= HARNESS_BLOCKS, sorted(HARNESS_BLOCKS - set(blocks))
    for name in HARNESS_BLOCKS:
        assert blocks[name].strip(), f"the block {name!r} is empty"


def test_guide_check_block_passed(stack: MailStack) -> None:
    output = stack.check_output
    assert "example.com/ann/" in output  # postmap -q through proxymap
    assert f"uid\t{DOMAIN_UID}" in output  # doveadm user
    assert f"passdb: {CHECK_ADDRESS} auth succeeded" in output  # doveadm auth test


def test_prepare_maildirs_made_the_homes(stack: MailStack) -> None:
    """The guide's prepare_maildirs step: domain folders root 0755, homes the mailbox's."""
    domain_dir = stack.mail_base / "plain.example"
    assert owner(domain_dir) == (0, 0)
    assert stat.S_IMODE(domain_dir.stat().st_mode) == 0o755
    home = domain_dir / "carl"
    assert owner(home) == (DEFAULT_UID, DEFAULT_GID)
    assert (home / "new").is_dir()


# -- 1. delivery ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "uid", "gid"),
    [
        ("bob@example.com", MAILBOX_UID, MAILBOX_GID),  # the mailbox's own owner
        ("ann@example.com", DOMAIN_UID, DOMAIN_GID),  # the domain's
        ("carl@plain.example", DEFAULT_UID, DEFAULT_GID),  # the server default
        ("jane@example.com", DOMAIN_UID, DOMAIN_GID),  # an mbox file
    ],
)
def test_lmtp_delivery_lands_in_the_mailbox_owned_by_its_uid(
    stack: MailStack, address: str, uid: int, gid: int
) -> None:
    token = stack.send([address])
    path = stack.wait_delivered(address, token)
    local, domain = address.split("@")
    home = stack.mail_base / domain / local
    if address.startswith("jane@"):
        assert path == home / "mbox" and path.is_file()
        assert path.read_text().startswith("From ")  # mbox format
    else:
        assert path.parent == home / "new"
    assert owner(path) == (uid, gid)
    assert owner(home) == (uid, gid)
    # Dovecot has saved it before it answers; Postfix logs the answer after.
    wait_for(
        lambda: any(
            f"to=<{address}>, relay=" in line and "dovecot-lmtp" in line and "Saved" in line
            for line in stack.postfix.log().splitlines()
        ),
        "the LMTP delivery log line",
        log=stack.postfix.log,
    )


def test_delivered_mail_is_read_over_imap(stack: MailStack) -> None:
    token = stack.send(["ann@example.com"])
    stack.wait_delivered("ann@example.com", token)
    assert stack.imap_search("ann@example.com", PASSWORD, token)


def test_domain_transport_still_decides_virtual_delivers(stack: MailStack) -> None:
    """A hosted domain's own transport (set in the panel) beats virtual_transport, no reload:
    `virtual:` hands it to Postfix's virtual(8) instead of Dovecot."""
    stack.db.python(SET_TRANSPORT.format(domain="lmtp.example", transport="virtual:"))
    address = "lena@lmtp.example"
    token = stack.send([address])
    path = stack.wait_delivered(address, token)
    assert owner(path) == (DEFAULT_UID, DEFAULT_GID)
    wait_for(
        lambda: f"to=<{address}>, relay=virtual" in stack.postfix.log(),
        "virtual(8)'s delivery log line",
        log=stack.postfix.log,
    )
    assert stack.imap_search(address, PASSWORD, token)


# -- 2. aliases, catch-all, alias domains ----------------------------------------------------


def test_alias_with_two_destinations_reaches_both(stack: MailStack) -> None:
    token = stack.send(["team@example.com"])
    stack.wait_delivered("ann@example.com", token)
    stack.wait_delivered("carl@plain.example", token)


def test_catch_all_takes_unknown_users_but_not_real_mailboxes(stack: MailStack) -> None:
    unknown = stack.send(["nobody-here@example.com"])
    stack.wait_delivered("postmaster@example.com", unknown)
    known = stack.send(["bob@example.com"])
    stack.wait_delivered("bob@example.com", known)
    stack.wait_queue_empty()
    assert stack.find("postmaster@example.com", known) is None


def test_alias_domain_rewrites_to_the_target_mailboxes(stack: MailStack) -> None:
    token = stack.send(["bob@alias.example", "Team@Alias.Example"])
    stack.wait_delivered("bob@example.com", token)
    stack.wait_delivered("ann@example.com", token)
    stack.wait_delivered("carl@plain.example", token)


# -- 3. unknown recipients -------------------------------------------------------------------


def test_unknown_recipient_is_rejected_at_rcpt(stack: MailStack) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        stack.send(["nobody@plain.example"])
    code, text = refused_code(caught.value, "nobody@plain.example")
    assert code == 550, text
    assert "User unknown" in text


# -- 4. relay --------------------------------------------------------------------------------


def test_foreign_client_cannot_relay(stack: MailStack) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        stack.send(["someone@foreign.example"], source=FOREIGN_CLIENT)
    code, text = refused_code(caught.value, "someone@foreign.example")
    assert code in (454, 554), text
    assert "Relay access denied" in text


def test_foreign_client_may_still_send_to_our_domains(stack: MailStack) -> None:
    token = stack.send(["ann@example.com"], source=FOREIGN_CLIENT)
    stack.wait_delivered("ann@example.com", token)


def test_authenticated_client_relays(stack: MailStack) -> None:
    sender = "sender@example.com"
    stack.send(
        ["someone@foreign.example"],
        sender=sender,
        source=FOREIGN_CLIENT,
        login=(sender, PASSWORD),
        submission=True,
    )
    # defer_transports = smtp (harness plumbing) keeps mail for foreign domains queued.
    deadline = time.monotonic() + 30
    while True:
        queued = [
            m
            for m in stack.postfix.queue()
            if any(r["address"] == "someone@foreign.example" for r in m["recipients"])
        ]
        if queued and queued[0]["queue_name"] == "deferred":
            break
        assert time.monotonic() < deadline, stack.postfix.queue()
        time.sleep(0.2)
    assert queued[0]["sender"] == sender
    assert f"sasl_username={sender}" in stack.postfix.log()
    # Accepted for relay; held only by the harness's defer_transports, not by a rejection.
    assert queued[0]["recipients"][0]["delay_reason"] == "deferred transport"
    stack.postfix.postsuper("-d", str(queued[0]["queue_id"]))


def test_authenticated_client_cannot_send_as_another_mailbox(stack: MailStack) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        stack.send(
            ["someone@foreign.example"],
            sender="ann@example.com",
            source=FOREIGN_CLIENT,
            login=("sender@example.com", PASSWORD),
            submission=True,
        )
    code, text = refused_code(caught.value, "someone@foreign.example")
    assert code == 553, text
    assert "not owned by user" in text


def test_wrong_smtp_password_is_refused(stack: MailStack) -> None:
    with pytest.raises(smtplib.SMTPAuthenticationError):
        stack.send(
            ["someone@foreign.example"],
            sender="sender@example.com",
            source="127.0.0.5",
            login=("sender@example.com", "not-" + PASSWORD),
            submission=True,
        )


# -- 5. and 6. changes in the panel take effect at the next lookup ---------------------------


def test_disabled_mailbox_gets_no_mail_and_cannot_log_in_until_enabled(
    stack: MailStack,
) -> None:
    address = "flip@example.com"
    token = stack.send([address])
    stack.wait_delivered(address, token)
    assert stack.imap_login_ok(address, PASSWORD, "127.0.0.1")

    stack.db.python(SET_ACTIVE.format(domain="example.com", local="flip", active=False))
    try:
        # Refused at RCPT time, in its own domain and through the alias domain: no bounce
        # for a mailbox that is switched off, and the catch-all of example.com takes nothing.
        for recipient in (address, "flip@alias.example"):
            with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
                stack.send([recipient])
            code, text = refused_code(caught.value, recipient)
            assert code == 550, text
            assert "Mailbox disabled" in text
        assert not stack.imap_login_ok(address, PASSWORD, "127.0.0.3")
    finally:
        stack.db.python(SET_ACTIVE.format(domain="example.com", local="flip", active=True))

    token = stack.send([address])
    stack.wait_delivered(address, token)
    assert stack.imap_login_ok(address, PASSWORD, "127.0.0.1")


def test_changed_password_works_at_once_and_the_old_one_fails(stack: MailStack) -> None:
    address = "changer@example.com"
    new = "a brand new password 42"
    assert stack.imap_login_ok(address, PASSWORD, "127.0.0.1")
    code = SET_PASSWORD.format(domain="example.com", local="changer")
    stack.python_stdin(code, new + "\n")
    assert stack.imap_login_ok(address, new, "127.0.0.1")
    assert not stack.imap_login_ok(address, PASSWORD, "127.0.0.4")


# -- database queries per message ------------------------------------------------------------

# The lookups Postfix makes for one message from someone@outside.example to
# user@alias.example, an alias domain of example.com, delivered by virtual(8) to the mailbox
# user@example.com; each lookup is one query through proxymap (seen with log_statement):
#   resolve the sender (trivial-rewrite for smtpd): virtual_alias_domains,
#     virtual_mailbox_domains, relay_domains for the domain and its parent, transport_maps
#     for the address, the domain and its parent                                         7
#   resolve the recipient's domain: the 3 domain classes + the parent in relay_domains     4
#     (an alias-class domain has no transport lookup)
#   recipient_access (check_recipient_access) for user@alias.example; the bare domain and
#     "user@" keys are suppressed by %d                                                      1
#   virtual_alias_maps: smtpd's reject_unlisted_recipient, then cleanup's expansion of
#     user@alias.example -> user@example.com -> itself (a mailbox answers for itself)       3
#   resolve user@example.com for qmgr: like the sender (qmgr's resolve client caches the
#     last address, so a repeat recipient costs 0)                                     0..7
#   virtual(8): virtual_mailbox_maps, virtual_uid_maps, virtual_gid_maps                 3
# = 18 in the steady state measured here, at most 25. The count comes from pg_stat_statements
# (loaded by scripts/services): the statements of the Postfix role in the contract database,
# exactly, whatever else the server is doing (a proxymap's connection set-up is no lookup
# and is not counted). Each lookup is a call of a mailadmin_postfix_*_lookup function; only
# top-level statements count, so the view query inside the function is not counted again.
QUERY_BOUND = 25

POSTFIX_LOOKUPS = """
SELECT COALESCE(sum(s.calls), 0)
  FROM pg_stat_statements s
  JOIN pg_roles r ON r.oid = s.userid
  JOIN pg_database d ON d.oid = s.dbid
 WHERE r.rolname = %s AND d.datname = %s AND s.query ILIKE 'select%%mailadmin_postfix_%%'
   AND s.toplevel
"""


def _postfix_lookups(stack: MailStack) -> int:
    with psycopg.connect(_pg_conninfo(stack.db.name), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        row = conn.execute(POSTFIX_LOOKUPS, (POSTFIX_ROLE, stack.db.name)).fetchone()
    assert row is not None
    return int(row[0])


def test_query_count_per_message(stack: MailStack) -> None:
    stack.wait_queue_empty()
    stack.postfix.postsuper("-d", "ALL", "deferred")  # nothing left for qmgr to retry
    # Another sender and recipient than the measured message for the warm-up: the resolve
    # clients of smtpd and qmgr remember their last address, and the measurement is of a
    # message with no such help.
    warm = stack.send(["bob@alias.example"])
    stack.wait_delivered("bob@example.com", warm)
    stack.wait_queue_empty()
    before = _postfix_lookups(stack)
    token = stack.send(["count@alias.example"], sender=f"{uuid.uuid4().hex[:8]}@sender.example")
    stack.wait_delivered("count@example.com", token)
    stack.wait_queue_empty()
    queries = _postfix_lookups(stack) - before
    print(
        f"\nPostgreSQL queries for one message to an alias-domain mailbox: {queries} "
        f"(bound {QUERY_BOUND}, from pg_stat_statements)"
    )
    assert 1 <= queries <= QUERY_BOUND


# -- 7. database fail-over -------------------------------------------------------------------


def test_delivery_survives_a_dead_database_host_listed_first(stack: MailStack) -> None:
    """Export with a dead server first (port 1) and the live one second; mail still flows
    through Postfix, and Dovecot still authenticates."""
    failover = stack.work / "export-failover"
    failover.mkdir(mode=0o700)
    dovecot_dir = stack.postfix.root / "dovecot-failover"
    dovecot_dir.mkdir(mode=0o755)
    # The same role passwords as the installed export: roles.sql is not applied again.
    shutil.copy2(stack.work / "export" / ".mailadmin-secrets.json", failover)
    port = stack.db.port
    env = {
        **stack.env,
        "EXPORT_DIR": str(failover),
        "MAIL_DB_URL": f"postgresql://127.0.0.1:1,127.0.0.1:{port}/{stack.db.name}",
        # A second Dovecot checks the Dovecot side; it must not take the running one's socket.
        "DOVECOT_DIR": str(dovecot_dir),
        "SASL_SOCKET": str(stack.work / "failover-auth"),
    }
    run_doc_block("export-maps", env)
    table = (failover / "postfix" / "virtual_mailbox_maps.cf").read_text()
    assert f"hosts = inet:127.0.0.1:1 inet:127.0.0.1:{port}\n" in table
    sql_conf = (failover / "dovecot" / "dovecot-sql.conf.ext").read_text()
    assert f"connect = host=127.0.0.1,127.0.0.1 port=1,{port} " in sql_conf

    run_doc_block("install-dovecot-files", env)
    with PrivateDovecot(
        stack.work / "dovecot-failover", includes=[dovecot_dir / "auth-mailadmin.conf.ext"]
    ) as dovecot:
        for _ in range(3):
            result = dovecot.auth_test(CHECK_ADDRESS, PASSWORD)
            assert result.ok, result.output + dovecot.log()

    run_doc_block("install-postfix-tables", env)
    stack.postfix.reload()
    try:
        # Postfix tries the hosts in random order and skips a dead one for retry_interval.
        tokens = [stack.send(["ann@alias.example", "carl@plain.example"]) for _ in range(3)]
        for token in tokens:
            stack.wait_delivered("ann@example.com", token)
            stack.wait_delivered("carl@plain.example", token)
        # Each table's connection tried the dead host first with even odds: some did.
        assert "connect to pgsql server inet:127.0.0.1:1:" in stack.postfix.log()
    finally:
        run_doc_block("install-postfix-tables", stack.env)
        stack.postfix.reload()
