"""`manage.py vacation set/off/show`: the text from stdin, one-line errors that change
nothing, and the exit status of a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from mailboxes.models import Mailbox
from sieve.models import SieveScript
from sieve.selectors import vacation_of
from tests.sieve.support import state
from tests.support import ROOT

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def run(*args: str, stdin: str = "") -> str:
    out, err = StringIO(), StringIO()
    call_command("vacation", *args, stdout=out, stderr=err, stdin=StringIO(stdin))
    assert err.getvalue() == ""
    return out.getvalue()


def fails(*args: str, stdin: str = "") -> str:
    """The command fails in one line and changes nothing; returns the line."""
    before = state()
    with pytest.raises(CommandError) as info:
        run(*args, stdin=stdin)
    assert state() == before
    message = str(info.value)
    assert message and "\n" not in message
    return message


def test_set_show_and_off(alice: Mailbox) -> None:
    end = TODAY + timedelta(days=14)
    out = run(
        "set",
        "Alice@A.example",
        "--subject",
        "Away",
        "--body-stdin",
        "--days",
        "3",
        "--end",
        end.isoformat(),
        stdin="I am away.\nBack soon.\n",
    )
    assert out == f"Vacation reply of alice@a.example is on from now until {end.isoformat()}.\n"
    saved = vacation_of(alice)
    assert saved is not None
    assert (saved.enabled, saved.subject, saved.body, saved.days, saved.end) == (
        True,
        "Away",
        "I am away.\nBack soon.",
        3,
        end,
    )
    assert SieveScript.objects.filter(mailbox=alice).exists()
    shown = run("show", "alice@a.example")
    assert shown.splitlines() == [
        "Vacation reply of alice@a.example",
        "on:         yes",
        "first day:  -",
        f"last day:   {end.isoformat()}",
        "days:       3 between two replies to the same sender",
        "answers:    alice@a.example, alice@alias-a.example, sales@a.example, "
        "sales@alias-a.example (all of its addresses)",
        "subject:    Away",
        "",
        "I am away.",
        "Back soon.",
    ]
    assert run("off", "alice@a.example") == (
        "Vacation reply of alice@a.example is off (its text is kept).\n"
    )
    assert "on:         no" in run("show", "alice@a.example")
    assert not SieveScript.objects.filter(mailbox=alice).exists()


def test_only_some_addresses(alice: Mailbox) -> None:
    run(
        "set",
        "alice@a.example",
        "--subject",
        "Away",
        "--body-stdin",
        "--address",
        "sales@a.example",
        "--start",
        TODAY.isoformat(),
        stdin="Gone.",
    )
    assert "answers:    sales@a.example\n" in run("show", "alice@a.example")


def test_nothing_to_show_or_switch_off(bob: Mailbox) -> None:
    assert run("show", "bob@a.example") == "bob@a.example has no vacation reply.\n"
    assert run("off", "bob@a.example") == (
        "bob@a.example has no vacation reply; nothing to switch off.\n"
    )


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (("set", "nobody@a.example", "--subject", "x", "--body-stdin"), "Gone", "no such mailbox"),
        (("set", "alice@a.example", "--subject", "x", "--body-stdin"), " \n", "no text on stdin"),
        (
            ("set", "alice@a.example", "--subject", "x", "--body-stdin", "--days", "90"),
            "Gone",
            "--days: Choose a number of days from 1 to 60.",
        ),
        (
            ("set", "alice@a.example", "--subject", " ", "--body-stdin"),
            "Gone",
            "subject: Give the reply a subject.",
        ),
        (
            (
                "set",
                "alice@a.example",
                "--subject",
                "x",
                "--body-stdin",
                "--start",
                (TODAY + timedelta(days=3)).isoformat(),
                "--end",
                (TODAY + timedelta(days=1)).isoformat(),
            ),
            "Gone",
            "--end: The last day comes before the first day.",
        ),
        (
            (
                "set",
                "alice@a.example",
                "--subject",
                "x",
                "--body-stdin",
                "--address",
                "c@b.example",
            ),
            "Gone",
            "--address: c@b.example is not an address of this mailbox.",
        ),
        (("off", "nobody@a.example"), "", "no such mailbox"),
        (("show", "alice@b.example"), "", "no such mailbox"),
    ],
)
def test_refusals_are_one_line_and_change_nothing(
    alice: Mailbox, args: tuple[str, ...], stdin: str, words: str
) -> None:
    assert words in fails(*args, stdin=stdin)


def test_a_real_process_reads_stdin_and_fails_with_status_1(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        DJANGO_SETTINGS_MODULE="mailadmin.settings",
        MAILADMIN_VAR_DIR=str(tmp_path),
        SECRET_KEY="test-only-secret-key",
    )

    def manage(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
        )

    assert manage("migrate", "--no-input", "-v", "0").returncode == 0
    assert manage("domain", "add", "example.com").returncode == 0
    assert manage("mailbox", "add", "john@example.com").returncode == 0
    done = manage(
        "vacation", "set", "john@example.com", "--subject", "Away", "--body-stdin", stdin="Gone.\n"
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    refused = manage(
        "vacation",
        "set",
        "john@example.com",
        "--subject",
        "Away",
        "--body-stdin",
        "--days",
        "0",
        stdin="Gone.",
    )
    assert refused.returncode == 1
    assert refused.stderr == "error: --days: Choose a number of days from 1 to 60.\n"
    usage = manage("vacation", "set", "john@example.com", "--body-stdin")
    assert usage.returncode == 2
    assert usage.stderr.startswith("error: the following arguments are required: --subject")
    bad_day = manage(
        "vacation", "set", "john@example.com", "--subject", "x", "--body-stdin", "--end", "soon"
    )
    assert bad_day.returncode == 2
    assert "'soon' is not a date like 2025-07-31" in bad_day.stderr
    shown = manage("vacation", "show", "john@example.com")
    assert "days:       7 between" in shown.stdout and shown.stdout.rstrip().endswith("Gone.")
