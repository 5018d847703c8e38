"""Domain states over real SMTP: disabled domains, IDN domains, postmaster@, relay lists.

The stack (tests/e2e/conftest.py) is the operator guide's own installation; this module adds
its domains through the services before any of them is looked up (smtpd keeps resolved
address classes for a while), and talks SMTP up to RCPT TO from three kinds of client: a
foreign one, one in mynetworks and one logged in with SASL.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import FOREIGN_CLIENT, PASSWORD, MailStack
from tests.postfix_harness import run_doc_block

pytestmark = pytest.mark.e2e

IDN = "xn--bcher-kva.example"
SENDER = "someone@[192.0.2.25]"  # an address literal: no DNS for the sender domain

SETUP = """
from domains import services as ds
from domains.models import Domain, RelayRecipient
from mailadmin import passwords
from mailboxes.services import alias_create, mailbox_create

password_hash = passwords.hash_password({password!r})
ds.domain_create(actor=None, name="off.example")
mailbox_create(actor=None, address="bea@off.example", password_hash=password_hash)
alias_create(actor=None, address="@off.example", destinations=["bea@off.example"])
ds.alias_domain_create(actor=None, name="off-alias.example", target="off.example")
ds.domain_set_active(actor=None, domain=Domain.objects.get(name="off.example"), active=False)
ds.domain_create(
    actor=None, name="off-relay.example", delivery="relay",
    transport="smtp:[192.0.2.1]:25", active=False,
)
ds.domain_create(actor=None, name="bücher.example")
mailbox_create(actor=None, address="hans@bücher.example", password_hash=password_hash)
ds.domain_create(actor=None, name="nopm.example")
mailbox_create(actor=None, address="nora@nopm.example", password_hash=password_hash)
ds.domain_create(
    actor=None, name="listed.example", delivery="relay", transport="smtp:[192.0.2.1]:25"
)
RelayRecipient.objects.create(domain=Domain.objects.get(name="listed.example"), local_part="lu")
"""

CLIENTS = ("foreign", "mynetworks", "sasl")


@pytest.fixture(scope="module")
def states(stack: MailStack) -> MailStack:
    stack.db.python(SETUP.format(password=PASSWORD))
    run_doc_block("prepare-maildirs", stack.env)  # the new mailboxes' homes, as the guide says
    return stack


@pytest.fixture
def session(states: MailStack, request: pytest.FixtureRequest) -> Iterator[smtplib.SMTP]:
    """An SMTP session after MAIL FROM, from the client kind given by the test's param."""
    client = request.param
    smtp = _connect(states, client)
    try:
        sender = "nora@nopm.example" if client == "sasl" else SENDER
        code, text = smtp.mail(sender)
        assert code == 250, text
        yield smtp
    finally:
        smtp.close()


def _connect(stack: MailStack, client: str) -> smtplib.SMTP:
    if client == "sasl":
        if hasattr(stack, "tls_context"):  # SASL is offered on the submission service only
            submission: Any = stack
            smtp = submission.smtp(FOREIGN_CLIENT, submission=True)
        else:
            smtp = smtplib.SMTP("127.0.0.1", stack.smtp_port, source_address=(FOREIGN_CLIENT, 0))
            smtp.ehlo("client.mailadmin.test")
        smtp.login("nora@nopm.example", PASSWORD)
        return smtp
    source = FOREIGN_CLIENT if client == "foreign" else "127.0.0.1"
    smtp = smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30, source_address=(source, 0))
    smtp.ehlo("client.mailadmin.test")
    return smtp


def _rcpt(smtp: smtplib.SMTP, address: str) -> tuple[int, str]:
    code, text = smtp.rcpt(address)
    return code, text.decode(errors="replace")


# -- 1. a disabled domain stays ours and refuses, for every client -----------------------------


@pytest.mark.parametrize("session", CLIENTS, indirect=True)
@pytest.mark.parametrize(
    "address",
    [
        "bea@off.example",  # a mailbox of the disabled domain
        "nobody@off.example",  # its catch-all would take it
        "bea@off-alias.example",  # an alias domain of the disabled domain
        "x@off-relay.example",  # a disabled relay domain: never relayed
    ],
)
def test_a_disabled_domain_is_refused_for_every_client(session: smtplib.SMTP, address: str) -> None:
    code, text = _rcpt(session, address)
    assert (code, "5.2.1") == (550, text[:5]), text
    assert "Domain disabled" in text


# -- 2. IDN domains, and no SMTPUTF8 -----------------------------------------------------------


def test_smtputf8_is_not_offered_because_dovecot_lmtp_cannot_take_it(states: MailStack) -> None:
    """Dovecot 2.3's LMTP offers no SMTPUTF8: Postfix would accept such a message and then
    bounce it (5.6.7). Not offered, the sender's server sends A-labels (RFC 6531 §3.2) or keeps
    the message; nothing is accepted that cannot be delivered."""
    smtp = _connect(states, "foreign")
    try:
        assert not smtp.has_extn("smtputf8")
        # smtplib itself would refuse to ask for what the server does not offer.
        code, text = smtp.docmd(f"MAIL FROM:<{SENDER}> SMTPUTF8")
        assert code == 555, text
    finally:
        smtp.close()


@pytest.mark.parametrize("session", CLIENTS, indirect=True)
def test_mail_to_an_idn_domain_in_its_a_label_is_ours(session: smtplib.SMTP) -> None:
    for address in (f"hans@{IDN}", f"hans@{IDN.upper()}"):
        code, text = _rcpt(session, address)
        assert code == 250, (address, text)
    code, text = _rcpt(session, f"nobody@{IDN}")
    assert code == 550, text
    assert "User unknown" in text


def test_mail_to_an_idn_domain_is_delivered_to_its_mailbox(states: MailStack) -> None:
    token = "e2e-idn-" + str(time.monotonic_ns())
    body = f"Subject: {token}\r\n\r\ntoken {token}\r\n".encode()
    with smtplib.SMTP("127.0.0.1", states.smtp_port, source_address=("127.0.0.1", 0)) as smtp:
        smtp.ehlo("client.mailadmin.test")
        refused = smtp.sendmail(SENDER, [f"hans@{IDN}"], body)
        assert not refused
    new = states.mail_base / IDN / "hans" / "new"
    deadline = time.monotonic() + 30
    while not (new.is_dir() and any(token in p.read_text() for p in new.iterdir())):
        assert time.monotonic() < deadline, states.postfix.log()[-3000:]
        time.sleep(0.2)
    # Nothing went out to the world, and nothing is waiting for it.
    assert not [
        m for m in states.postfix.queue() if any(IDN in r["address"] for r in m["recipients"])
    ]


# -- 3. postmaster@ of every hosted domain -----------------------------------------------------


@pytest.mark.parametrize("session", ["foreign"], indirect=True)
def test_postmaster_of_a_domain_without_catch_all_is_accepted(session: smtplib.SMTP) -> None:
    for address in ("postmaster@nopm.example", "abuse@nopm.example", f"postmaster@{IDN}"):
        code, text = _rcpt(session, address)
        assert code == 250, (address, text)
    code, text = _rcpt(session, "hostmaster@nopm.example")
    assert code == 550, text


# -- 4. relay recipient lists ------------------------------------------------------------------


@pytest.mark.parametrize("session", ["foreign"], indirect=True)
def test_a_relay_domain_accepts_only_its_listed_recipients(session: smtplib.SMTP) -> None:
    code, text = _rcpt(session, "lu@listed.example")
    assert code == 250, text
    code, text = _rcpt(session, "other@listed.example")
    assert code == 550, text
    assert "User unknown in relay recipient table" in text
