"""Quota through the exported configuration: refused at RCPT, usage written back, warnings.

Real Postfix -> LMTP -> real Dovecot, configured only by the files export_maps wrote and the
guide installed (tests/e2e/conftest.py). Dovecot's quota-status answers Postfix's
check_policy_service at RCPT time; quota_clone writes mailadmin_quota_usage; the quota-warning
script delivers the warning in the owner's language.
"""

from __future__ import annotations

import json
import smtplib
import time

import pytest

from tests.e2e.conftest import FOREIGN_CLIENT, PASSWORD, MailStack
from tests.postfix_harness import run_doc_block

pytestmark = [pytest.mark.tools, pytest.mark.e2e]

QUOTA_SEED = f"""
from mailadmin import passwords
from mailboxes.models import MailboxLogin
from mailboxes.services import mailbox_create
password_hash = passwords.hash_password({PASSWORD!r})
for address, quota in (("full@example.com", 20000), ("roomy@example.com", 10_000_000),
                       ("warned@example.com", 10000), ("usage@plain.example", 1_000_000)):
    mailbox_create(actor=None, address=address, password_hash=password_hash, quota=quota)
MailboxLogin.objects.filter(username="warned@example.com").update(language="uk")
"""

USAGE_ROW = """
import json
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT bytes, messages, permille FROM mailadmin_quota_usage WHERE username = %s",
        [{address!r}],
    )
    print(json.dumps(cursor.fetchone()))
"""


@pytest.fixture(scope="module")
def quota_stack(stack: MailStack) -> MailStack:
    stack.db.python(QUOTA_SEED)
    run_doc_block("prepare-maildirs", stack.env)
    return stack


def send_sized(stack: MailStack, to: str, size: int, *, source: str = FOREIGN_CLIENT) -> str:
    """Send a message of about `size` bytes from a client outside mynetworks."""
    msg = stack.message([to])
    line = "x" * 63 + "\n"  # short lines: sent as they are, neither base64 nor QP
    msg.set_content(line * (size // len(line)))
    with stack.smtp(source) as smtp:
        smtp.send_message(msg, to_addrs=[to])
    return str(msg["Subject"])


def usage_row(stack: MailStack, address: str) -> tuple[int, int, int | None] | None:
    out = stack.db.python(USAGE_ROW.format(address=address)).stdout.strip().splitlines()[-1]
    row = json.loads(out)
    return None if row is None else (row[0], row[1], row[2])


def kib(used: int) -> int:
    """doveadm quota get shows STORAGE in KiB, rounded up."""
    return -(-used // 1024)


def doveadm_quota(stack: MailStack, address: str) -> dict[str, tuple[int, str]]:
    """doveadm quota get: resource -> (value, limit); STORAGE in KiB."""
    result = stack.dovecot.doveadm("-f", "tab", "quota", "get", "-u", address)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].split("\t")
    rows = {}
    for line in lines[1:]:
        fields = dict(zip(header, line.split("\t"), strict=False))
        rows[fields["Type"]] = (int(fields["Value"]), fields["Limit"])
    return rows


def wait_usage(stack: MailStack, address: str, messages: int) -> tuple[int, int, int | None]:
    deadline = time.monotonic() + 30
    while True:
        row = usage_row(stack, address)
        if row is not None and row[1] == messages:
            return row
        if time.monotonic() > deadline:
            raise AssertionError(
                f"usage of {address} is {row}; Dovecot log:\n" + stack.dovecot.log()[-3000:]
            )
        time.sleep(0.2)


def test_a_full_mailbox_is_refused_at_rcpt_and_one_below_its_quota_accepts(
    quota_stack: MailStack,
) -> None:
    stack = quota_stack
    # 13 kB of a 20 kB quota, then 7 kB more: within the 10% grace, taken (about 104%).
    for size in (13000, 7000):
        token = send_sized(stack, "full@example.com", size)
        stack.wait_delivered("full@example.com", token)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send_sized(stack, "full@example.com", 100)
    code, text = refused.value.recipients["full@example.com"]
    assert code == 552, text
    assert text.decode() == "5.2.2 <full@example.com>: Recipient address rejected: Mailbox is full"
    assert "NOQUEUE: reject: RCPT from" in stack.postfix.log()
    token = send_sized(stack, "roomy@example.com", 5000)
    stack.wait_delivered("roomy@example.com", token)


def test_a_message_that_does_not_fit_is_refused_before_data(quota_stack: MailStack) -> None:
    """smtplib announces SIZE=; quota-status refuses a message the mailbox cannot take."""
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send_sized(quota_stack, "usage@plain.example", 1_500_000)
    assert refused.value.recipients["usage@plain.example"][0] == 552


def test_usage_in_the_database_equals_what_dovecot_counts(quota_stack: MailStack) -> None:
    stack = quota_stack
    for size in (3000, 40000, 7000):
        token = send_sized(stack, "usage@plain.example", size)
        stack.wait_delivered("usage@plain.example", token)
    used, messages, permille = wait_usage(stack, "usage@plain.example", 3)
    counted = doveadm_quota(stack, "usage@plain.example")
    assert counted["MESSAGE"][0] == messages == 3
    assert counted["STORAGE"][0] == kib(used)
    assert counted["STORAGE"][1] == str(kib(1_000_000))
    assert permille == used * 1000 // 1_000_000
    # Deleting mail over IMAP lowers it again: quota_clone copies every change.
    with stack.imap() as imap:
        imap.login("usage@plain.example", PASSWORD)
        imap.select("INBOX")
        imap.store("1", "+FLAGS", "\\Deleted")
        imap.expunge()
    after = wait_usage(stack, "usage@plain.example", 2)
    assert after[0] < used
    assert doveadm_quota(stack, "usage@plain.example")["STORAGE"][0] == kib(after[0])


PANEL_PAGE = """
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
user, _ = get_user_model().objects.get_or_create(username="e2e-admin", is_superuser=True)
client = Client(HTTP_HOST="localhost")
client.force_login(user)
page = client.get(reverse("mailboxes:mailbox_list", args=["plain.example"]) + "?q=usage")
assert page.status_code == 200, page.status_code
print(page.content.decode())
"""


def test_the_panel_shows_the_figure_dovecot_wrote(quota_stack: MailStack) -> None:
    from mailadmin.sizes import format_used

    used, _, permille = wait_usage(quota_stack, "usage@plain.example", 2)
    assert permille is not None
    body = quota_stack.db.python(PANEL_PAGE).stdout
    figures = body[body.index('<span class="figures">') :][:200]
    assert format_used(used) in figures, figures
    assert f"({permille // 10}%)" in figures, figures


def test_the_cli_shows_the_usage_dovecot_wrote(quota_stack: MailStack) -> None:
    used = wait_usage(quota_stack, "roomy@example.com", 1)[0]
    result = quota_stack.db.python(
        "from django.core.management import call_command\n"
        "call_command('mailbox', 'show', 'roomy@example.com')"
    )
    assert str(used) in result.stdout.replace(",", "").replace(" ", ""), result.stdout


def test_the_owner_is_warned_in_their_language(quota_stack: MailStack) -> None:
    stack = quota_stack
    token = send_sized(stack, "warned@example.com", 8500)  # over 80% of 10 kB
    stack.wait_delivered("warned@example.com", token)
    deadline = time.monotonic() + 30
    while True:
        warnings = [
            m
            for m in stack.messages_of("warned@example.com")
            if m["From"].startswith("postmaster@")
        ]
        if warnings or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(warnings) == 1, stack.dovecot.log()[-3000:]
    warning = warnings[0]
    assert warning["Auto-Submitted"] == "auto-generated"
    assert warning["From"] == "postmaster@example.com"
    assert "80%" in str(warning["Subject"])
    body = warning.get_content()
    assert "warned@example.com" in body and "80%" in body
    assert "скриньк" in str(warning["Subject"]).lower() + body.lower()  # Ukrainian
