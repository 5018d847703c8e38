"""The server-wide defaults: owner uid/gid and where unset postmaster@/abuse@ go, set through
one service from the CLI (`manage.py server`), answered at once by the contract views."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEntry
from domains.models import ServerSettings
from tests import factories as f

pytestmark = pytest.mark.django_db


def server(*args: str) -> str:
    out = io.StringIO()
    call_command("server", *args, stdout=out)
    return out.getvalue()


def role_answer(local_part: str, domain: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT destination FROM mailadmin_postfix_alias WHERE domain = %s AND local_part = %s",
            [domain, local_part],
        )
        return [row[0] for row in cursor.fetchall()]


def test_show_and_set() -> None:
    assert "postmaster address: postmaster@localhost" in server("show")
    server("set", "--uid", "6000", "--gid", "6001", "--postmaster", "Hostmaster@Example.NET")
    row = ServerSettings.load()
    assert (row.default_uid, row.default_gid, row.postmaster_address) == (
        6000,
        6001,
        "hostmaster@example.net",
    )
    entry = AuditEntry.objects.get(object_type="serversettings")
    assert entry.changes["postmaster_address"] == ["postmaster@localhost", "hostmaster@example.net"]


def test_the_views_answer_the_new_target_at_once() -> None:
    f.domain("example.com")
    assert role_answer("postmaster", "example.com") == ["postmaster@localhost"]
    server("set", "--postmaster", "noc@example.org")
    assert role_answer("postmaster", "example.com") == ["noc@example.org"]
    assert role_answer("abuse", "example.com") == ["noc@example.org"]
    server("set", "--postmaster", "")
    assert role_answer("postmaster", "example.com") == []
    assert "(none: refused)" in server("show")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--postmaster", "not an address"], "--postmaster"),
        (["--postmaster", "a:b@localhost"], "--postmaster"),
        (["--postmaster", "x@host"], "--postmaster"),
        (["--uid", "0"], "--uid"),
    ],
)
def test_bad_values_change_nothing(args: list[str], message: str) -> None:
    before = list(ServerSettings.objects.values())
    with pytest.raises(CommandError, match=message):
        server("set", *args)
    assert list(ServerSettings.objects.values()) == before
