"""Vacation replies and filters through the exported configuration, judged by the real stack.

The rules are set through the sieve services (as the panel and the CLI do); Pigeonhole reads
the script from the database through the SQL dict (sieve_before) at the next message. Replies
go through the private Postfix (submission_host: its port 25), which holds them in its queue
(defer_transports = smtp): a reply is a queued message from <> to the original sender.
"""

from __future__ import annotations

import datetime
import subprocess
import time
import uuid
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

import pytest

from tests.e2e.conftest import FOREIGN_CLIENT, PASSWORD, MailStack
from tests.postfix_harness import run_doc_block
from tests.support import require_tool

pytestmark = [pytest.mark.tools, pytest.mark.e2e]

TODAY = datetime.date.today()
SUBJECT = "Out of office"
BODY = "I am away until the 20th. Your message will be read when I am back."

SIEVE_SEED = f"""
import datetime
from mailadmin import passwords
from mailboxes.models import Mailbox
from mailboxes.services import alias_create, mailbox_create
from sieve.models import Action, Condition, Match, Vacation
from sieve.services import filter_rule_create, script_publish, vacation_off, vacation_set

today = datetime.date.fromisoformat({TODAY.isoformat()!r})
day = datetime.timedelta(days=1)
password_hash = passwords.hash_password({PASSWORD!r})
for local in ("away", "future", "past", "off", "sorter", "nosieve"):
    mailbox_create(actor=None, address=local + "@example.com", password_hash=password_hash)
alias_create(actor=None, address="holiday@example.com", destinations=["away@example.com"])
box = lambda local: Mailbox.objects.get(domain__name="example.com", local_part=local)
vacation_set(actor=None, mailbox=box("away"), subject={SUBJECT!r}, body={BODY!r}, days=7,
             start=today - day, end=today + 10 * day,
             addresses=["away@example.com", "holiday@example.com"])
vacation_set(actor=None, mailbox=box("future"), subject={SUBJECT!r}, body={BODY!r},
             start=today + 2 * day)
vacation_set(actor=None, mailbox=box("past"), subject={SUBJECT!r}, body={BODY!r},
             end=today + day)
# Time passes: the window ended two days ago (a past end cannot be set, rightly), the script
# published from the row as it is now.
Vacation.objects.filter(mailbox=box("past")).update(start=today - 9 * day, end=today - 2 * day)
script_publish(mailbox=box("past"))
vacation_set(actor=None, mailbox=box("off"), subject={SUBJECT!r}, body={BODY!r})
vacation_off(actor=None, mailbox=box("off"))
filter_rule_create(actor=None, mailbox=box("sorter"), condition=Condition.SUBJECT,
                   match=Match.CONTAINS, value="invoice", action=Action.FILE_INTO,
                   folder="Invoices")
"""


@pytest.fixture(scope="module")
def sieve_stack(stack: MailStack) -> MailStack:
    stack.db.python(SIEVE_SEED)
    run_doc_block("prepare-maildirs", stack.env)
    return stack


def outside_sender() -> str:
    """A sender of its own per test: replies are counted per sender."""
    return f"s{uuid.uuid4().hex[:10]}@[192.0.2.25]"


def send(
    stack: MailStack,
    to: str,
    *,
    sender: str,
    subject: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    token = f"e2e-{uuid.uuid4().hex}"
    msg = EmailMessage()
    msg["From"] = sender or "mailer-daemon@[192.0.2.25]"
    msg["To"] = to
    msg["Subject"] = f"{subject} {token}" if subject else token
    msg["Message-ID"] = f"<{token}@mailadmin.test>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(f"token {token}\n")
    with stack.smtp(FOREIGN_CLIENT) as smtp:
        smtp.sendmail(sender, [to], msg.as_bytes())
    return msg


def wait_sieve_done(stack: MailStack, msg: EmailMessage, timeout: float = 30) -> None:
    """Until Dovecot logged the message's final Sieve action (after any vacation reply)."""
    msgid = str(msg["Message-ID"])
    deadline = time.monotonic() + timeout
    while not any(
        msgid in line and ("stored mail into mailbox" in line or "discarded" in line)
        for line in stack.dovecot.log().splitlines()
    ):
        if time.monotonic() > deadline:
            raise AssertionError(f"{msgid} was not delivered:\n{stack.dovecot.log()[-4000:]}")
        time.sleep(0.1)


def replies_to(stack: MailStack, sender: str, settle: float = 1.0) -> list[EmailMessage]:
    """The queued messages from <> to `sender`, parsed (after Postfix has had time to queue
    a reply submitted a moment ago)."""
    time.sleep(settle)
    postcat = require_tool("postcat")
    found = []
    for item in stack.postfix.queue():
        recipients = [r["address"] for r in item.get("recipients", [])]
        if item.get("sender") not in ("", "MAILER-DAEMON") or sender not in recipients:
            continue
        raw = subprocess.run(
            [postcat, "-c", str(stack.postfix.config_dir), "-bh", "-q", item["queue_id"]],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
        found.append(BytesParser(policy=default_policy).parsebytes(raw))
    return found


def test_two_messages_in_the_interval_get_exactly_one_rfc_3834_reply(
    sieve_stack: MailStack,
) -> None:
    sender = outside_sender()
    first = send(sieve_stack, "away@example.com", sender=sender)
    wait_sieve_done(sieve_stack, first)
    second = send(sieve_stack, "away@example.com", sender=sender)
    wait_sieve_done(sieve_stack, second)
    replies = replies_to(sieve_stack, sender)
    assert len(replies) == 1, sieve_stack.postfix.queue()
    reply = replies[0]
    assert reply["From"].addresses[0].addr_spec == "away@example.com"
    assert reply["To"].addresses[0].addr_spec == sender
    assert str(reply["Subject"]) == SUBJECT
    assert reply["In-Reply-To"] == first["Message-ID"]
    assert reply["Auto-Submitted"].startswith("auto-replied")
    assert BODY in reply.get_content()


def test_mail_to_an_alias_of_the_mailbox_gets_a_reply_from_the_mailbox(
    sieve_stack: MailStack,
) -> None:
    sender = outside_sender()
    msg = send(sieve_stack, "holiday@example.com", sender=sender)
    wait_sieve_done(sieve_stack, msg)
    replies = replies_to(sieve_stack, sender)
    assert len(replies) == 1, sieve_stack.dovecot.log()[-3000:]
    assert replies[0]["From"].addresses[0].addr_spec == "away@example.com"


@pytest.mark.parametrize(
    "headers",
    [
        {"List-Id": "Friends <friends.lists.example.net>"},
        {"Precedence": "bulk"},
        {"Precedence": "list"},
        {"Auto-Submitted": "auto-generated"},
        {"X-Spam-Flag": "YES"},
    ],
    ids=["list-id", "precedence-bulk", "precedence-list", "auto-submitted", "spam"],
)
def test_no_reply_to_lists_bulk_automatic_or_spam_mail(
    sieve_stack: MailStack, headers: dict[str, str]
) -> None:
    sender = outside_sender()
    msg = send(sieve_stack, "away@example.com", sender=sender, headers=headers)
    wait_sieve_done(sieve_stack, msg)
    assert replies_to(sieve_stack, sender) == []


def test_no_reply_to_a_null_sender(sieve_stack: MailStack) -> None:
    before = [item["queue_id"] for item in sieve_stack.postfix.queue()]
    msg = send(sieve_stack, "away@example.com", sender="")
    wait_sieve_done(sieve_stack, msg)
    time.sleep(1.0)
    new = [item for item in sieve_stack.postfix.queue() if item["queue_id"] not in before]
    assert new == [], new


@pytest.mark.parametrize("local", ["future", "past", "off"])
def test_no_reply_before_the_start_after_the_end_or_once_switched_off(
    sieve_stack: MailStack, local: str
) -> None:
    sender = outside_sender()
    msg = send(sieve_stack, f"{local}@example.com", sender=sender)
    wait_sieve_done(sieve_stack, msg)
    assert replies_to(sieve_stack, sender) == []


def imap_folder_has(stack: MailStack, address: str, folder: str, token: str) -> bool:
    with stack.imap() as imap:
        imap.login(address, PASSWORD)
        status, _ = imap.select(f'"{folder}"', readonly=True)
        if status != "OK":
            return False
        status, data = imap.search(None, "SUBJECT", f'"{token}"')
        return status == "OK" and bool(data and data[0] and data[0].split())


def test_a_filter_files_a_matching_message_into_its_folder(sieve_stack: MailStack) -> None:
    msg = send(sieve_stack, "sorter@example.com", sender=outside_sender(), subject="Your invoice")
    wait_sieve_done(sieve_stack, msg)
    token = str(msg["Subject"]).split()[-1]
    assert imap_folder_has(sieve_stack, "sorter@example.com", "Invoices", token)
    assert not imap_folder_has(sieve_stack, "sorter@example.com", "INBOX", token)
    other = send(sieve_stack, "sorter@example.com", sender=outside_sender(), subject="Hello")
    wait_sieve_done(sieve_stack, other)
    assert imap_folder_has(sieve_stack, "sorter@example.com", "INBOX", str(other["Subject"]))


def test_spam_flagged_mail_goes_to_junk_for_a_mailbox_nobody_configured(
    sieve_stack: MailStack,
) -> None:
    msg = send(
        sieve_stack, "nosieve@example.com", sender=outside_sender(), headers={"X-Spam-Flag": "YES"}
    )
    wait_sieve_done(sieve_stack, msg)
    token = str(msg["Subject"])
    assert imap_folder_has(sieve_stack, "nosieve@example.com", "Junk", token)
    assert not imap_folder_has(sieve_stack, "nosieve@example.com", "INBOX", token)


def test_a_changed_rule_applies_to_the_next_message(sieve_stack: MailStack) -> None:
    """No file is written on the mail host: the next lookup of the dict sees the new script."""
    sieve_stack.db.python(
        "from mailboxes.models import Mailbox\n"
        "from sieve.models import Action, Condition, Match\n"
        "from sieve.services import filter_rule_create\n"
        "box = Mailbox.objects.get(domain__name='example.com', local_part='nosieve')\n"
        "filter_rule_create(actor=None, mailbox=box, condition=Condition.SENDER,"
        " match=Match.CONTAINS, value='boss', action=Action.FILE_INTO, folder='Boss')\n"
    )
    msg = send(sieve_stack, "nosieve@example.com", sender="boss@[192.0.2.25]")
    wait_sieve_done(sieve_stack, msg)
    assert imap_folder_has(sieve_stack, "nosieve@example.com", "Boss", str(msg["Subject"]))
