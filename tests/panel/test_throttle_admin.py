"""What the superadmin sees of the login throttles and how it lifts them: page and CLI."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts import throttle
from accounts.models import LoginThrottle
from audit.models import AuditEntry
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LIST = "/accounts/throttles/"


def fail(kind: str, identity: str, ip: str, times: int = 1) -> None:
    """`times` failures, as if each came after the wait the previous ones imposed."""
    for _ in range(times):
        LoginThrottle.objects.filter(kind=kind, identity=identity).update(blocked_until=None)
        with throttle.guard(kind=kind, identity=identity, ip=ip):
            pass


def lift_url(row: LoginThrottle) -> str:
    return f"/accounts/throttles/{row.pk}/lift/"


def pair(identity: str, network: str, kind: str = "admin") -> LoginThrottle:
    return LoginThrottle.objects.get(kind=kind, identity=identity, network=network)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("admin", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def delayed(admin_a, domain_a):
    """admin-a waits from 203.0.113.9; alice@a.example's owner login waits from a /64."""
    fail("admin", "admin-a", "203.0.113.9", 5)
    fail("owner", "alice@a.example", "2001:db8:1:2::5", 6)


# --- the page ----------------------------------------------------------------------------------


def test_superadmin_sees_every_counter_whole_and_partial(client_super, delayed, htmx):
    page = client_super.get(LIST)
    assert page.status_code == 200
    body = page.content.decode()
    assert b"<html" in page.content
    for text in ("admin-a", "203.0.113.9", "alice@a.example", "2001:db8:1:2::/64"):
        assert text in body
    partial = client_super.get(LIST, headers=htmx)
    assert partial.status_code == 200
    assert b"<html" not in partial.content
    assert "alice@a.example" in partial.content.decode()


def test_the_page_is_reached_from_the_admins_list(client_super):
    assert f'href="{LIST}"' in client_super.get("/accounts/admins/").content.decode()


def test_the_list_runs_a_fixed_number_of_queries(client_super, delayed, django_assert_num_queries):
    for i in range(20):
        fail("admin", f"name{i}", f"198.51.100.{i}")
    client_super.get(LIST)  # warm the session
    with django_assert_num_queries(3):  # session, user, one page of counters
        assert client_super.get(LIST).status_code == 200


def test_lifting_lets_the_delayed_admin_in_and_is_audited(client_super, delayed):
    row = pair("admin-a", "203.0.113.9")
    client = Client(REMOTE_ADDR="203.0.113.9")
    login = {"username": "admin-a", "password": PASSWORD}
    assert "Too many failed logins" in client.post("/accounts/login/", login).content.decode()
    response = client_super.post(lift_url(row))
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not LoginThrottle.objects.filter(pk=row.pk).exists()
    entry = AuditEntry.objects.get(action="unthrottle")
    assert entry.actor_label == "root"
    assert entry.changes == {"kind": "admin", "identity": "admin-a", "network": "203.0.113.9"}
    assert client.post("/accounts/login/", login).status_code == 302


def test_pages_are_404_for_a_domain_admin(client_a, delayed):
    row = pair("admin-a", "203.0.113.9")
    assert client_a.get(LIST).status_code == 404
    assert client_a.post(lift_url(row)).status_code == 404
    assert LoginThrottle.objects.filter(pk=row.pk).exists()


def test_an_anonymous_visitor_is_sent_to_the_login(client, delayed):
    assert client.get(LIST)["Location"] == f"/accounts/login/?next={LIST}"
    row = pair("admin-a", "203.0.113.9")
    response = client.post(lift_url(row))
    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/login/?next={lift_url(row)}",
    )
    assert LoginThrottle.objects.filter(pk=row.pk).exists()


def test_wrong_methods_unknown_rows_and_a_missing_csrf_token(client_super, superadmin, delayed):
    row = pair("admin-a", "203.0.113.9")
    assert client_super.post(LIST).status_code == 405
    assert client_super.get(lift_url(row)).status_code == 405
    assert client_super.post("/accounts/throttles/999999/lift/").status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(superadmin)
    assert strict.post(lift_url(row)).status_code == 403
    assert LoginThrottle.objects.filter(pk=row.pk).exists()


# --- the CLI -----------------------------------------------------------------------------------


def test_cli_lists_the_counters(delayed):
    output = run("throttles")
    assert "KIND" in output and "IDENTITY" in output and "NETWORK" in output
    lines = [line.split() for line in output.splitlines()]
    assert ["owner", "alice@a.example", "2001:db8:1:2::/64", "6", "120"] in [
        line[:5] for line in lines
    ]


def test_cli_says_when_there_is_nothing(db):
    assert run("throttles").strip() == "No login throttles."


def test_cli_lifts_an_identity_in_any_spelling(delayed):
    assert run("unthrottle", "Alice@A.Example.") == "Lifted 2 throttles.\n"
    assert not LoginThrottle.objects.filter(identity="alice@a.example").exists()
    assert LoginThrottle.objects.filter(identity="admin-a").exists()
    assert AuditEntry.objects.filter(action="unthrottle", actor_label="system").count() == 2


def test_cli_lifts_a_network_and_narrows_by_kind(delayed):
    assert run("unthrottle", "--network", "2001:db8:1:2::ffff", "--kind", "admin") == (
        "No throttle matched.\n"
    )
    assert run("unthrottle", "--network", "2001:db8:1:2::ffff") == "Lifted 2 throttles.\n"
    assert run("unthrottle", "admin-a", "--network", "203.0.113.9") == "Lifted 1 throttle.\n"
    assert pair("admin-a", "").failures == 5


def test_cli_needs_an_identity_or_a_network(db):
    with pytest.raises(CommandError, match="an IDENTITY, a --network or both"):
        run("unthrottle")
    with pytest.raises(CommandError, match="not an IP address"):
        run("unthrottle", "--network", "nonsense")
