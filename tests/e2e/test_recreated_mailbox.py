"""A deleted address created again never opens the old owner's mail, through the real stack.

The old mailbox's home stays on disk when its row is deleted; virtual(8) and Dovecot would
hand it to a new mailbox of the same address (mailboxes/maildirs/). The panel refuses to
create the address again until the operator's `prepare_maildirs --archive-orphans` run has
moved the old home aside (docs/operators.md §6); then the new owner starts empty, and the old
mail is in the archive.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import MailStack

pytestmark = [pytest.mark.tools, pytest.mark.e2e]

ADDRESS = "recycled@example.com"
OLD_PASSWORD = "the old owner's password 1"
NEW_PASSWORD = "the new owner's password 2"

CREATE = """
import sys
from mailboxes.services import mailbox_create
mailbox_create(actor=None, address={address!r}, password=sys.stdin.readline().rstrip("\\n"))
"""

DELETE = """
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_delete
mailbox_delete(actor=None, mailbox=Mailbox.objects.get(domain__name="example.com",
                                                       local_part="recycled"))
"""

CREATE_REFUSED = """
from django.core.exceptions import ValidationError
from mailboxes.services import mailbox_create
try:
    mailbox_create(actor=None, address={address!r}, password="whatever it is 123")
except ValidationError as exc:
    print("refused:", exc.messages)
else:
    print("created")
"""


def home(stack: MailStack) -> Path:
    return stack.mail_base / "example.com" / "recycled"


def wait_for_message(folder: Path, token: str, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for sub in ("new", "cur"):
            for item in (folder / sub).glob("*") if (folder / sub).is_dir() else []:
                if token in item.read_text(errors="replace"):
                    return item
        time.sleep(0.1)
    raise AssertionError(f"{token} never reached {folder}")


def prepare(stack: MailStack, *args: str) -> str:
    result = stack.db.manage("prepare_maildirs", "--mail-base", str(stack.mail_base), *args)
    return result.stdout


def test_new_owner_of_a_deleted_address_does_not_see_the_old_mail(stack: MailStack) -> None:
    stack.python_stdin(CREATE.format(address=ADDRESS), OLD_PASSWORD + "\n")
    prepare(stack)
    old = stack.send([ADDRESS])
    wait_for_message(home(stack), old)
    assert stack.imap_search(ADDRESS, OLD_PASSWORD, old)

    stack.db.python(DELETE)
    # The old home is still on disk: creating the address now would hand it over.
    assert home(stack).exists()
    answer = stack.db.python(CREATE_REFUSED.format(address=ADDRESS)).stdout
    assert answer.startswith("refused:") and "--archive-orphans" in answer

    archive = stack.mail_base.parent / f"{stack.mail_base.name}-archive"
    out = prepare(stack, "--archive-orphans", str(archive))
    assert f"archived {home(stack)} to {archive}/example.com/recycled." in out
    assert not home(stack).exists()

    stack.python_stdin(CREATE.format(address=ADDRESS), NEW_PASSWORD + "\n")
    prepare(stack)
    new = stack.send([ADDRESS])
    wait_for_message(home(stack), new)
    assert stack.imap_search(ADDRESS, NEW_PASSWORD, new)
    assert not stack.imap_search(ADDRESS, NEW_PASSWORD, old)
    assert not stack.imap_login_ok(ADDRESS, OLD_PASSWORD, "127.0.0.1")
    # The old owner's mail is kept, out of the mail base.
    [kept] = [
        item
        for item in archive.glob("example.com/recycled.*/*/*")
        if old in item.read_text(errors="replace")
    ]
    assert kept.is_file()
