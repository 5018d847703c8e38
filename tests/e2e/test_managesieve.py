"""A mail client's own Sieve script, kept over ManageSieve, runs after the panel's rules; the
panel shows it to the owner and the admin by asking Dovecot's doveadm HTTP API.

Real Postfix -> LMTP -> real Dovecot (Pigeonhole, managesieve, the doveadm HTTP listener),
configured only by the files export_maps wrote and the guide installed (tests/e2e/conftest.py).
The panel's pages are rendered by Django's test client in a process of its own against the
stack's database, with MAILADMIN_DOVEADM_URL pointing at the private Dovecot; the key comes
from the export's secrets file, as a panel on the mail host finds it, or from the
environment, as a panel elsewhere is given it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailadmin.contract.export import DOVEADM_API_KEY, SECRETS_FILE
from tests.dovecot_harness import free_loopback_port
from tests.e2e.conftest import PASSWORD, MailStack
from tests.managesieve_client import ManageSieveClient, ManageSieveError
from tests.postfix_harness import run_doc_block
from tests.support import ROOT

pytestmark = [pytest.mark.tools, pytest.mark.e2e]

OWNER = "sieve-owner@example.com"
ADMIN = "e2e-sieve-admin"
SCRIPT_NAME = "projects"
SCRIPT = (
    'require ["fileinto", "mailbox"];\r\n'
    "# The client's own rule: mail about the project goes to its folder.\r\n"
    'if header :contains "subject" "[project]" {\r\n'
    '  fileinto :create "Projects";\r\n'
    "}\r\n"
)

SEED = f"""
from domains.models import Domain
from mailadmin import passwords
from mailboxes.services import mailbox_create
from tests import factories
mailbox_create(
    actor=None, address={OWNER!r}, password_hash=passwords.hash_password({PASSWORD!r})
)
factories.domain_admin({ADMIN!r}, Domain.objects.get(name="example.com"))
"""

# The owner's /me/ and the admin's page of the mailbox, through Django's test client.
PAGES = f"""
import json
from django.contrib.auth import get_user_model
from django.test import Client
owner = Client()
login = owner.post("/me/login/", {{"address": {OWNER!r}, "password": {PASSWORD!r}}})
assert login.status_code == 302, login.content.decode()
admin = Client()
admin.force_login(get_user_model().objects.get(username={ADMIN!r}))
pages = {{
    "owner": owner.get("/me/"),
    "admin": admin.get("/me/admin/mailboxes/{OWNER}/"),
}}
print(json.dumps({{k: [r.status_code, r.content.decode()] for k, r in pages.items()}}))
"""

SECTION = re.compile(
    r'<section class="card" data-testid="client-scripts" data-state="([a-z-]+)">(.*?)</section>',
    re.S,
)


@pytest.fixture(scope="module")
def sieve_stack(stack: MailStack) -> MailStack:
    stack.db.python(SEED)
    run_doc_block("prepare-maildirs", stack.env)  # the new mailbox's home
    return stack


def doveadm_url(stack: MailStack) -> str:
    return f"http://{stack.env['DOVEADM_LISTEN']}:{stack.env['DOVEADM_PORT']}"


def api_key(stack: MailStack) -> str:
    kept = json.loads((Path(stack.env["EXPORT_DIR"]) / SECRETS_FILE).read_text())
    return str(kept[DOVEADM_API_KEY])


def panel_pages(stack: MailStack, **env: str) -> dict[str, tuple[str, str]]:
    """(state, text of the client-scripts section) of the owner's and the admin's page."""
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PAGES],
        capture_output=True,
        text=True,
        env=stack.db.env(
            ALLOWED_HOSTS="testserver",
            MAILADMIN_MAIL_BASE=stack.env["MAILADMIN_MAIL_BASE"],
            **env,
        ),
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    pages = json.loads(result.stdout.strip().splitlines()[-1])
    sections = {}
    for viewer, (status, body) in pages.items():
        assert status == 200, (viewer, body)
        match = SECTION.search(body)
        assert match, (viewer, body)
        sections[viewer] = (match.group(1), re.sub(r"\s+", " ", match.group(2)))
    return sections


def wait_in_folder(stack: MailStack, folder: str, token: str, timeout: float = 30) -> None:
    """Until IMAP finds the message `token` in the owner's `folder`."""
    deadline = time.monotonic() + timeout
    while True:
        with stack.imap() as imap:
            imap.login(OWNER, PASSWORD)
            status, _data = imap.select(f'"{folder}"', readonly=True)
            found = False
            if status == "OK":
                status, data = imap.search(None, "SUBJECT", f'"{token}"')
                found = status == "OK" and bool(data and data[0] and data[0].split())
        if found:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{token} is not in {folder} of {OWNER}; Dovecot log:\n"
                + stack.dovecot.log()[-3000:]
            )
        time.sleep(0.2)


def send(stack: MailStack, subject: str, **headers: str) -> str:
    msg = stack.message([OWNER])
    token = str(msg["Subject"])
    msg.replace_header("Subject", f"{subject} {token}")
    for name, value in headers.items():
        msg[name] = value
    with stack.smtp() as smtp:
        refused = smtp.send_message(msg, to_addrs=[OWNER])
        assert not refused, refused
    return token


def in_inbox(stack: MailStack, token: str) -> bool:
    with stack.imap() as imap:
        imap.login(OWNER, PASSWORD)
        imap.select("INBOX", readonly=True)
        status, data = imap.search(None, "SUBJECT", f'"{token}"')
        assert status == "OK"
        return bool(data and data[0] and data[0].split())


@pytest.fixture(scope="module")
def uploaded(sieve_stack: MailStack) -> MailStack:
    """The owner's mail client has uploaded its script over ManageSieve and made it active."""
    with ManageSieveClient("127.0.0.1", sieve_stack.managesieve_port) as client:
        assert "fileinto" in client.capabilities["SIEVE"].split()
        assert "PLAIN" in client.capabilities["SASL"].split()
        client.authenticate_plain(OWNER, PASSWORD)
        client.putscript(SCRIPT_NAME, SCRIPT)
        client.setactive(SCRIPT_NAME)
        assert client.listscripts() == [(SCRIPT_NAME, True)]
    return sieve_stack


def test_managesieve_refuses_a_script_that_does_not_compile(sieve_stack: MailStack) -> None:
    with ManageSieveClient("127.0.0.1", sieve_stack.managesieve_port) as client:
        client.authenticate_plain(OWNER, PASSWORD)
        with pytest.raises(ManageSieveError, match="PUTSCRIPT: NO"):
            # fileinto without its require.
            client.putscript("broken", 'if header :contains "subject" "x" { fileinto "X"; }')
        assert "broken" not in [name for name, _active in client.listscripts()]


def test_doveadm_lists_the_clients_script(uploaded: MailStack) -> None:
    result = uploaded.dovecot.doveadm("sieve", "list", "-u", OWNER)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [SCRIPT_NAME, "ACTIVE"]


def test_the_clients_script_files_mail_after_the_panels_rule(uploaded: MailStack) -> None:
    stack = uploaded
    project = send(stack, "[project] status")
    wait_in_folder(stack, "Projects", project)
    assert not in_inbox(stack, project)
    # The panel's default rule still runs, first: spam-flagged mail goes to Junk.
    spam = send(stack, "cheap pills", **{"X-Spam-Flag": "YES"})
    wait_in_folder(stack, "Junk", spam)
    # Mail that neither rule takes stays in the INBOX.
    plain = send(stack, "lunch?")
    wait_in_folder(stack, "INBOX", plain)
    # The Sieve files in the home (scripts, the active link, the compiled binaries) are no
    # folders: the Maildir is the home, and Maildir++ would list every ".name" as one.
    with stack.imap() as imap:
        imap.login(OWNER, PASSWORD)
        status, listed = imap.list()
    assert status == "OK"
    names = sorted(
        line.decode().rsplit(" ", 1)[-1].strip('"') for line in listed if isinstance(line, bytes)
    )
    assert names == ["INBOX", "Junk", "Projects"], names


def test_the_owner_and_the_admin_see_the_script_and_that_it_is_active(
    uploaded: MailStack,
) -> None:
    stack = uploaded
    key = api_key(stack)
    # A panel on the mail host: the key from the export's secrets file.
    on_host = panel_pages(
        stack,
        MAILADMIN_DOVEADM_URL=doveadm_url(stack),
        MAILADMIN_EXPORT_DIR=stack.env["EXPORT_DIR"],
    )
    # A panel elsewhere: the key from its environment (and no secrets file to read).
    elsewhere = panel_pages(
        stack,
        MAILADMIN_DOVEADM_URL=doveadm_url(stack),
        MAILADMIN_DOVEADM_API_KEY=key,
        MAILADMIN_EXPORT_DIR=str(stack.work / "no-export-here"),
    )
    for sections in (on_host, elsewhere):
        for viewer, (state, text) in sections.items():
            assert state == "listed", (viewer, text)
            assert f"<li>{SCRIPT_NAME} " in text and 'data-testid="active-script"' in text
            assert "run first" in text and "never changes or removes" in text
            assert key not in text
    assert "your mail program" in on_host["owner"][1]
    assert "the owner's active script" in on_host["admin"][1]


def test_the_pages_say_so_when_dovecot_cannot_be_asked(uploaded: MailStack) -> None:
    stack = uploaded
    closed = panel_pages(
        stack,
        MAILADMIN_DOVEADM_URL=f"http://127.0.0.1:{free_loopback_port()}",
        MAILADMIN_DOVEADM_API_KEY=api_key(stack),
    )
    wrong_key = panel_pages(
        stack,
        MAILADMIN_DOVEADM_URL=doveadm_url(stack),
        MAILADMIN_DOVEADM_API_KEY="wrongKeyWrongKeyWrongKey0000",
    )
    for sections in (closed, wrong_key):
        for viewer, (state, text) in sections.items():
            assert state == "unavailable", (viewer, text)
            assert "could not be asked just now" in text
            # No state at all: neither the script nor "none".
            assert SCRIPT_NAME not in text and "active-script" not in text
            assert "no such scripts" not in text and "None of them" not in text
    assert "Connection refused" in closed["admin"][1]
    assert "Dovecot refused the API key (HTTP 401)" in wrong_key["admin"][1]
    # The owner is told that the panel cannot tell, not the technical reason.
    assert "Connection refused" not in closed["owner"][1]
    assert "401" not in wrong_key["owner"][1]
    # Without a URL the panel is not set up to ask, and says that instead.
    unset = panel_pages(stack, MAILADMIN_DOVEADM_URL="")
    assert {state for state, _text in unset.values()} == {"not-set-up"}
