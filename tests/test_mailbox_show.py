"""manage.py mailbox show ADDRESS: a mailbox's settings and the usage Dovecot last reported."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.core.management.base import CommandError

from mailboxes.models import QuotaUsage
from tests import factories as f
from tests.dovecot_usage import GiB, MiB, report
from tests.test_cli import run

pytestmark = pytest.mark.django_db


def fields(output: str) -> dict[str, str]:
    return dict(re.findall(r"^([a-z ]+):\s+(.*)$", output, re.MULTILINE))


def test_show_prints_used_limit_messages_and_when_dovecot_reported() -> None:
    f.domain("bücher.example")
    f.mailbox("ann@bücher.example", name="Ann", quota=2 * GiB)
    report("ann@xn--bcher-kva.example", 1536 * MiB, 4711)
    shown = fields(run("mailbox", "show", "ANN@bücher.example"))
    assert shown["address"] == "ann@bücher.example (ann@xn--bcher-kva.example)"
    assert shown["name"] == "Ann"
    assert shown["quota"] == "2147483648 bytes (2 GiB)"
    assert shown["used"] == "1610612736 bytes (1.5 GiB), 75% of the quota"
    assert shown["messages"] == "4711"
    reported = QuotaUsage.objects.get().updated_at
    assert datetime.fromisoformat(shown["reported"]) == reported.replace(microsecond=0)
    assert shown["active"] == "yes"


def test_show_without_a_quota_and_before_any_report() -> None:
    f.domain("example.com")
    f.mailbox("bo@example.com", quota=0)
    before = fields(run("mailbox", "show", "bo@example.com"))
    assert before["quota"] == "unlimited"
    assert (
        before["used"]
        == before["messages"]
        == before["reported"]
        == ("not reported by Dovecot yet")
    )
    report("bo@example.com", 0, 0)
    after = fields(run("mailbox", "show", "bo@example.com"))
    assert after["used"] == "0 bytes (0 B)"
    assert after["messages"] == "0"


def test_show_of_an_unknown_mailbox_is_one_line() -> None:
    f.domain("example.com")
    with pytest.raises(CommandError, match=r"^no such mailbox: nobody@example\.com$"):
        run("mailbox", "show", "nobody@example.com")
