"""The exported SMTP policy against the real Postfix: relay, local names, extensions, port 25
hygiene, submission with TLS, and what a running smtpd remembers about a domain.

One stack for the module (tests/e2e/conftest.py), configured only by export_maps and the
marked blocks of docs/operators.md, with a self-signed certificate made by the test. Most
checks stop at RCPT time (MAIL FROM, RCPT TO, RSET): no message leaves the machine, and the
foreign client (127.0.0.2) sends as an address literal, for which no DNS is asked.
"""

from __future__ import annotations

import imaplib
import smtplib
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import (
    FOREIGN_CLIENT,
    MESSAGE_SIZE_LIMIT,
    OUTSIDE_SENDER,
    PASSWORD,
    MailStack,
)
from tests.postfix_harness import OPERATORS_GUIDE, doc_blocks, run_doc_block

pytestmark = [pytest.mark.tools, pytest.mark.e2e]

LMTP_TRANSPORT = "lmtp:unix:private/dovecot-lmtp"

POLICY_SEED = f"""
from domains.models import Domain
from domains.services import domain_create, domain_update
from mailadmin import passwords
from mailboxes.services import alias_create, mailbox_create

domain_create(actor=None, name="relay.example", delivery="relay", transport="smtp:[127.0.0.1]:1")
domain_create(actor=None, name="backup.example", delivery="backup")
domain_update(actor=None, domain=Domain.objects.get(name="lmtp.example"),
              transport={LMTP_TRANSPORT!r})
password_hash = passwords.hash_password({PASSWORD!r})
for address in ("plus@lmtp.example", "plus+box@lmtp.example", "solo@lmtp.example"):
    mailbox_create(actor=None, address=address, password_hash=password_hash)
alias_create(actor=None, address="lists+news@lmtp.example", destinations=["solo@lmtp.example"])
"""

ADD_DOMAIN = """
from domains.services import domain_create
from mailadmin import passwords
from mailboxes.services import mailbox_create
domain_create(actor=None, name={domain!r})
for local in {locals!r}:
    mailbox_create(actor=None, address=local + "@" + {domain!r},
                   password_hash=passwords.hash_password("x"))
"""

DELETE_DOMAIN = """
from domains.models import Domain
from domains.services import domain_delete
domain_delete(actor=None, domain=Domain.objects.get(name={domain!r}))
"""


@pytest.fixture(scope="module")
def policy(stack: MailStack) -> Iterator[MailStack]:
    stack.db.python(POLICY_SEED)
    run_doc_block("prepare-maildirs", stack.env)  # the new mailboxes' homes
    yield stack


def rcpt(
    stack: MailStack,
    recipient: str,
    *,
    sender: str = OUTSIDE_SENDER,
    source: str | None = FOREIGN_CLIENT,
    submission: bool = False,
    login: tuple[str, str] | None = None,
) -> tuple[int, str]:
    """The answer to RCPT TO in a fresh session (nothing is sent)."""
    with stack.smtp(source, submission=submission) as smtp:
        if login:
            smtp.login(*login)
        code, text = smtp.mail(sender)
        if code != 250:
            return code, text.decode(errors="replace")
        code, text = smtp.rcpt(recipient)
        smtp.rset()
        return code, text.decode(errors="replace")


def imap_has(stack: MailStack, address: str, token: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.imap_search(address, PASSWORD, token):
            return True
        time.sleep(0.2)
    return False


# -- 1. relay: subdomains of relay and backup domains are not ours ---------------------------


@pytest.mark.parametrize(
    "recipient", ["x@sub.relay.example", "x@a.b.relay.example", "x@sub.backup.example"]
)
def test_foreign_client_cannot_relay_to_a_subdomain_of_a_relay_or_backup_domain(
    policy: MailStack, recipient: str
) -> None:
    code, text = rcpt(policy, recipient)
    assert code == 554 and "Relay access denied" in text, (code, text)


@pytest.mark.parametrize("recipient", ["x@relay.example", "x@backup.example"])
def test_the_relay_and_backup_domains_themselves_are_ours(
    policy: MailStack, recipient: str
) -> None:
    """Relayed for a foreign client: accepted, or refused only as an unknown recipient of
    the domain (relay_recipient_maps), never as a relay."""
    code, text = rcpt(policy, recipient)
    assert code == 250 or (code == 550 and "User unknown" in text), (code, text)


def test_mynetworks_and_authenticated_clients_relay_anywhere_by_design(
    policy: MailStack,
) -> None:
    """A subdomain of a relay domain is just a foreign domain: clients that may relay to the
    whole world (mynetworks, SASL on submission) may relay there too."""
    assert rcpt(policy, "x@sub.relay.example", source="127.0.0.1")[0] == 250
    sender = "sender@example.com"
    login = (sender, PASSWORD)
    code, text = rcpt(policy, "x@sub.relay.example", sender=sender, submission=True, login=login)
    assert code == 250, (code, text)


# -- 4. mydestination keeps the machine's own names ------------------------------------------


def test_mail_for_root_at_the_host_name_stays_local(policy: MailStack) -> None:
    hostname = policy.postfix.get("myhostname")
    assert rcpt(policy, f"root@{hostname}") == (250, "2.1.5 Ok")
    code, text = rcpt(policy, f"no-such-user-here@{hostname}")
    assert code == 550 and "User unknown in local recipient table" in text, (code, text)


def test_guide_check_refuses_a_hosted_domain_named_like_the_host(policy: MailStack) -> None:
    hostname = policy.postfix.get("myhostname")
    policy.db.python(ADD_DOMAIN.format(domain=hostname, locals=[]))
    try:
        with pytest.raises(AssertionError) as caught:
            run_doc_block("check-lookups", policy.env, stdin=PASSWORD + "\n")
        assert f"{hostname} is in mydestination and a hosted or alias domain" in str(caught.value)
    finally:
        policy.db.python(DELETE_DOMAIN.format(domain=hostname))
    run_doc_block("check-lookups", policy.env, stdin=PASSWORD + "\n")


# -- 2. address extensions: the exact address first ------------------------------------------


def test_exact_mailbox_with_a_plus_gets_its_own_mail_over_lmtp(policy: MailStack) -> None:
    token = policy.send(["plus+box@lmtp.example"])
    assert imap_has(policy, "plus+box@lmtp.example", token), policy.dovecot.log()[-3000:]
    policy.wait_queue_empty()
    assert not policy.imap_search("plus@lmtp.example", PASSWORD, token)


def test_extension_of_an_existing_mailbox_goes_to_it_over_lmtp(policy: MailStack) -> None:
    token = policy.send(["solo+tag@lmtp.example"])
    assert imap_has(policy, "solo@lmtp.example", token), policy.postfix.log()[-3000:]
    # Delivered, not bounced: nothing for the (literal) sender waits in the queue.
    policy.wait_queue_empty()
    assert not [m for m in policy.postfix.queue() if m["sender"] == ""]


def test_exact_alias_with_a_plus_wins(policy: MailStack) -> None:
    token = policy.send(["lists+news@lmtp.example"])
    assert imap_has(policy, "solo@lmtp.example", token)


def test_extension_of_an_unknown_address_is_refused_at_rcpt(policy: MailStack) -> None:
    code, text = rcpt(policy, "nobody+tag@lmtp.example")
    assert code == 550 and "User unknown" in text, (code, text)


def test_extension_of_a_mailbox_beats_the_catch_all(policy: MailStack) -> None:
    """example.com has a catch-all: bob+tag@ is bob's, not the catch-all's."""
    token = policy.send(["bob+tag@example.com"])
    policy.wait_delivered("bob@example.com", token)
    policy.wait_queue_empty()
    assert policy.find("postmaster@example.com", token) is None


# -- 6. port 25 hygiene ----------------------------------------------------------------------


def test_outside_client_cannot_send_as_one_of_our_mailboxes(policy: MailStack) -> None:
    code, text = rcpt(policy, "bob@example.com", sender="ann@example.com")
    assert code == 553 and "not logged in" in text, (code, text)
    # An address of ours that no login owns, and one from mynetworks, are still fine.
    assert rcpt(policy, "bob@example.com", sender="no-login@plain.example")[0] == 250
    assert rcpt(policy, "bob@example.com", sender="ann@example.com", source="127.0.0.1")[0] == 250


def test_helo_is_required(policy: MailStack) -> None:
    with smtplib.SMTP("127.0.0.1", policy.smtp_port, timeout=30) as smtp:
        code, text = smtp.docmd("MAIL FROM:<someone@[192.0.2.25]>")
    assert code == 503 and b"send HELO/EHLO first" in text, (code, text)


def test_vrfy_is_disabled(policy: MailStack) -> None:
    with policy.smtp(FOREIGN_CLIENT) as smtp:
        code, text = smtp.docmd("VRFY ann@example.com")
    assert code == 502 and b"VRFY command is disabled" in text, (code, text)


def test_non_fqdn_sender_and_recipient_are_refused(policy: MailStack) -> None:
    code, text = rcpt(policy, "bob@example.com", sender="someone@nodots")
    assert code == 504 and "need fully-qualified address" in text, (code, text)
    # From mynetworks: a foreign client is refused the relay first (smtpd_relay_restrictions).
    code, text = rcpt(policy, "bob@plain", source="127.0.0.1")
    assert code == 504 and "need fully-qualified address" in text, (code, text)


def test_message_over_the_size_limit_is_refused(policy: MailStack) -> None:
    with policy.smtp(FOREIGN_CLIENT) as smtp:
        assert smtp.esmtp_features["size"] == str(MESSAGE_SIZE_LIMIT)
        code, _ = smtp.mail(OUTSIDE_SENDER, [f"SIZE={MESSAGE_SIZE_LIMIT + 1}"])
        assert code == 552
        smtp.rset()
        # No SIZE announced: the limit still holds at the end of DATA.
        assert smtp.mail(OUTSIDE_SENDER)[0] == 250
        assert smtp.rcpt("bob@example.com")[0] == 250
        body = b"Subject: big\r\n\r\n" + (b"x" * 76 + b"\r\n") * (MESSAGE_SIZE_LIMIT // 78 + 100)
        code, text = smtp.data(body)
    assert code == 552 and b"message file too big" in text, (code, text)


# -- 5. submission: TLS first, SMTP AUTH only there -------------------------------------------


def test_port_25_offers_no_smtp_auth_even_after_starttls(policy: MailStack) -> None:
    with policy.smtp(FOREIGN_CLIENT) as smtp:
        assert "starttls" in smtp.esmtp_features
        assert "auth" not in smtp.esmtp_features
        smtp.starttls(context=policy.tls_context())
        smtp.ehlo("client.mailadmin.test")
        assert "auth" not in smtp.esmtp_features


def test_submission_wants_starttls_before_auth_and_mail(policy: MailStack) -> None:
    port = policy.postfix.submission_port
    assert port is not None
    with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(FOREIGN_CLIENT, 0)) as smtp:
        smtp.ehlo("client.mailadmin.test")
        assert "auth" not in smtp.esmtp_features
        code, text = smtp.docmd("MAIL FROM:<sender@example.com>")
        assert code == 530 and b"STARTTLS" in text, (code, text)
    with policy.smtp(FOREIGN_CLIENT, submission=True) as smtp:
        assert "PLAIN" in smtp.esmtp_features["auth"].split()


def test_submission_refuses_an_unauthenticated_client(policy: MailStack) -> None:
    code, text = rcpt(policy, "bob@example.com", sender="no-login@plain.example", submission=True)
    assert code == 554 and "Client host rejected: Access denied" in text, (code, text)


def test_submissions_port_speaks_implicit_tls_and_relays_for_a_login(policy: MailStack) -> None:
    port = policy.postfix.submissions_port
    assert port is not None
    context = policy.tls_context()
    with smtplib.SMTP_SSL("127.0.0.1", port, timeout=30, context=context) as smtp:
        smtp.ehlo("client.mailadmin.test")
        smtp.login("sender@example.com", PASSWORD)
        assert smtp.mail("sender@example.com")[0] == 250
        assert smtp.rcpt("someone@foreign.example")[0] == 250
        smtp.rset()
        assert smtp.mail("ann@example.com")[0] == 250  # the sender is checked at RCPT
        code, text = smtp.rcpt("someone@foreign.example")
        assert code == 553 and b"not owned by user" in text, (code, text)


def test_dovecot_speaks_starttls_with_the_exported_certificate(policy: MailStack) -> None:
    with imaplib.IMAP4("127.0.0.1", policy.imap_port, timeout=30) as imap:
        imap.starttls(ssl_context=policy.tls_context())
        imap.login("ann@example.com", PASSWORD)
        assert imap.select("INBOX", readonly=True)[0] == "OK"


# -- 3. a running smtpd remembers a domain's class; postfix reload ends it -------------------


def test_domain_change_is_seen_after_reload(policy: MailStack) -> None:
    guide = OPERATORS_GUIDE.read_text(encoding="utf-8")
    assert "apply-master-cf" in doc_blocks() and "\npostfix reload\n" in guide
    with policy.smtp(FOREIGN_CLIENT) as smtp:
        smtp.mail(OUTSIDE_SENDER)
        assert smtp.rcpt("early@late.example")[0] == 554  # not ours yet
        policy.db.python(ADD_DOMAIN.format(domain="late.example", locals=["early", "other"]))
        # The same smtpd: an address it resolved before keeps its old class...
        code, text = smtp.rcpt("early@late.example")
        assert code == 554 and b"Relay access denied" in text, (code, text)
        # ...a new address of the same domain gets the new answer at once.
        assert smtp.rcpt("other@late.example")[0] == 250
        smtp.rset()
    policy.postfix.reload()
    assert rcpt(policy, "early@late.example")[0] == 250
