"""Admin login (throttled), logout, password change and the admin management pages."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client

from accounts import services
from accounts.models import LoginThrottle
from audit.models import AuditEntry
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, **extra})


def logged_in_as(client: Client, response, username: str) -> bool:
    """The login answered with its redirect and the session now holds `username`."""
    user = get_user_model().objects.get(username=username)
    return response.status_code == 302 and client.session.get("_auth_user_id") == str(user.pk)


def admins() -> list[object]:
    """Every admin account and what it administers, to show that a refused request changed none."""
    users = get_user_model().objects.order_by("pk")
    return [
        (
            u.username,
            u.password,
            u.is_superuser,
            u.is_active,
            sorted(u.administered_domains.values_list("name", flat=True)),
        )
        for u in users
    ]


def test_login_page_works_without_and_with_htmx(client, htmx):
    full = client.get("/accounts/login/")
    assert full.status_code == 200
    assert b"<html" in full.content
    assert b'name="csrfmiddlewaretoken"' in full.content
    partial = client.get("/accounts/login/", headers=htmx)
    assert b"<html" not in partial.content
    assert b'id="login-form"' in partial.content


def test_admin_logs_in_and_lands_on_the_dashboard(client, admin_a):
    response = login(client, "admin-a", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_follows_a_local_next_only(client, admin_a):
    assert login(client, "admin-a", PASSWORD, next="/domains/")["Location"] == "/domains/"
    client.logout()
    assert login(client, "admin-a", PASSWORD, next="https://evil.example/")["Location"] == "/"


def test_wrong_password_is_an_inline_error(client, admin_a, caplog):
    with caplog.at_level(logging.WARNING, logger="mailadmin.auth"):
        response = login(client, "admin-a", "wrong password")
    assert response.status_code == 200
    assert "Wrong username or password." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert "authentication failure kind=admin user=admin-a rhost=127.0.0.1" in caplog.text


def test_a_user_without_domains_cannot_log_in(client, db):
    get_user_model().objects.create_user(username="plain", password=PASSWORD)
    response = login(client, "plain", PASSWORD)
    assert response.status_code == 200
    assert "Wrong username or password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_after_the_free_failures_even_the_right_password_waits_from_that_network(
    client, admin_a, settings
):
    settings.MAILADMIN_LOGIN_FREE_FAILURES = 3
    for _ in range(3):
        login(client, "admin-a", "wrong password")
    response = login(client, "admin-a", PASSWORD)
    assert response.status_code == 200
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # When the delay has passed, the right password works again and clears the pair's count.
    LoginThrottle.objects.update(blocked_until=None)
    assert logged_in_as(client, login(client, "admin-a", PASSWORD), "admin-a")
    assert not LoginThrottle.objects.exclude(identity="").exclude(network="").exists()


def test_login_refuses_get_with_side_effects_and_wrong_methods(client):
    assert client.put("/accounts/login/").status_code == 405
    assert client.get("/accounts/logout/").status_code == 405


def test_logout_is_a_post(client_a):
    response = client_a.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client_a.session
    assert client_a.get("/")["Location"] == "/accounts/login/?next=/"


def test_logout_needs_the_csrf_token(admin_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)
    assert client.post("/accounts/logout/").status_code == 403
    assert client.session["_auth_user_id"] == str(admin_a.pk)  # still logged in


def test_password_change(client_a, admin_a):
    response = client_a.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer secret 42",
            "new_password2": "a much longer secret 42",
        },
    )
    assert response.status_code == 302
    admin_a.refresh_from_db()
    assert admin_a.check_password("a much longer secret 42")
    assert AuditEntry.objects.filter(action="password", object_type="user").exists()
    # Still logged in (the session hash was updated).
    assert client_a.get("/").status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"old_password": "wrong", "new_password1": "x" * 20, "new_password2": "x" * 20},
            "old_password",
            "Your old password was entered incorrectly.",
        ),
        (
            {"old_password": PASSWORD, "new_password1": "a" * 20, "new_password2": "b" * 20},
            "new_password2",
            "The two password fields didn",  # then a typographic apostrophe
        ),
        (
            {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
            "new_password2",
            "This password is too short.",
        ),
    ],
)
def test_password_change_bad_input_changes_nothing(client_a, admin_a, htmx, data, field, message):
    response = client_a.post("/accounts/password/", data, headers=htmx)
    assert response.status_code == 200
    assert b"errorlist" in response.content
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert errors[field][0].startswith(message)
    assert b"<html" not in response.content
    admin_a.refresh_from_db()
    assert admin_a.check_password(PASSWORD)


# --- admin management --------------------------------------------------------------------------

ADMIN_URLS = [
    ("/accounts/admins/", {"GET"}),
    ("/accounts/admins/new/", {"GET", "POST"}),
    ("/accounts/admins/admin-b/", {"GET", "POST"}),
    ("/accounts/admins/admin-b/grant/", {"POST"}),
    ("/accounts/admins/admin-b/revoke/", {"POST"}),
    ("/accounts/admins/admin-b/password/", {"POST"}),
    ("/accounts/admins/admin-b/delete/", {"GET", "POST"}),
]


@pytest.mark.parametrize(("url", "methods"), ADMIN_URLS)
def test_admin_pages_are_404_for_domain_admins(client_a, admin_b, url, methods):
    before = admins()
    for method in methods:
        assert getattr(client_a, method.lower())(url).status_code == 404
    assert AuditEntry.objects.filter(object_type="user").count() == 0
    assert admins() == before


@pytest.mark.parametrize(("url", "methods"), ADMIN_URLS)
def test_admin_pages_refuse_wrong_methods(client_super, admin_b, url, methods):
    for method in {"GET", "POST", "PUT", "DELETE"} - methods:
        assert getattr(client_super, method.lower())(url).status_code == 405


@pytest.mark.parametrize(("url", "methods"), [u for u in ADMIN_URLS if "GET" in u[1]])
def test_admin_pages_whole_and_partial(client_super, admin_b, htmx, url, methods):
    full = client_super.get(url)
    assert full.status_code == 200
    assert b"<html" in full.content
    partial = client_super.get(url, headers=htmx)
    assert partial.status_code == 200
    assert b"<html" not in partial.content


def test_unknown_admin_is_404(client_super):
    before = admins()
    assert client_super.get("/accounts/admins/nobody/").status_code == 404
    assert (
        client_super.post("/accounts/admins/nobody/grant/", {"domains": "a.example"}).status_code
        == 404
    )
    assert admins() == before


def test_superadmin_creates_a_domain_admin_with_a_generated_password(client_super, domain_a):
    response = client_super.post(
        "/accounts/admins/new/", {"username": "carol", "domains": "a.example"}
    )
    assert response.status_code == 200
    password = response.context["password"]
    assert password in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    carol = get_user_model().objects.get(username="carol")
    assert carol.check_password(password)
    assert not carol.is_superuser
    assert [d.name for d in carol.administered_domains.all()] == ["a.example"]
    assert AuditEntry.objects.filter(action="grant", domain="a.example").exists()
    client = Client()
    assert logged_in_as(client, login(client, "carol", password), "carol")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "admin-a", "domains": "a.example"}, "username"),
        ({"username": "dave", "domains": ""}, "domains"),
        ({"username": "dave", "domains": "nowhere.example"}, "domains"),
        ({"username": "dave", "domains": "a.example", "password": "123"}, "password"),
        ({"username": "bad name!", "domains": "a.example"}, "username"),
    ],
)
def test_admin_create_bad_input_changes_nothing(client_super, admin_a, data, field):
    users_before = get_user_model().objects.count()
    response = client_super.post("/accounts/admins/new/", data)
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in response.content.decode()
    assert get_user_model().objects.count() == users_before


def test_grant_revoke_and_roles(client_super, admin_b, domain_a):
    response = client_super.post("/accounts/admins/admin-b/grant/", {"domains": "a.example"})
    assert response.status_code == 302
    assert set(admin_b.administered_domains.values_list("name", flat=True)) == {
        "a.example",
        "b.example",
    }
    client_super.post("/accounts/admins/admin-b/revoke/", {"domain": "b.example"})
    assert list(admin_b.administered_domains.values_list("name", flat=True)) == ["a.example"]
    client_super.post("/accounts/admins/admin-b/", {"superadmin": "on", "active": "on"})
    admin_b.refresh_from_db()
    assert admin_b.is_superuser
    client_super.post("/accounts/admins/admin-b/", {"active": ""})
    admin_b.refresh_from_db()
    assert not admin_b.is_superuser
    assert not admin_b.is_active


def test_grant_of_an_unknown_domain_is_an_inline_error(client_super, admin_b):
    response = client_super.post("/accounts/admins/admin-b/grant/", {"domains": "zzz.example"})
    assert response.status_code == 200
    assert "There is no domain zzz.example." in response.content.decode()
    assert list(admin_b.administered_domains.values_list("name", flat=True)) == ["b.example"]


def test_superadmin_cannot_demote_or_delete_themself(client_super, superadmin):
    response = client_super.post("/accounts/admins/root/", {"active": "on"})
    assert response.status_code == 200
    assert "your own superadmin rights" in response.content.decode()
    response = client_super.post("/accounts/admins/root/delete/")
    assert response.status_code == 200
    assert "You cannot delete your own account." in response.content.decode()
    superadmin.refresh_from_db()
    assert superadmin.is_superuser and superadmin.is_active
    assert not AuditEntry.objects.filter(object_type="user").exists()


def test_reset_password_shows_a_new_one_once(client_super, admin_b):
    response = client_super.post("/accounts/admins/admin-b/password/")
    assert response.status_code == 200
    password = response.context["password"]
    assert password in response.content.decode()
    assert "no-store" in response["Cache-Control"]  # shown once: never kept by a cache
    admin_b.refresh_from_db()
    assert admin_b.check_password(password)
    assert AuditEntry.objects.filter(action="password", object_id=str(admin_b.pk)).exists()


def test_delete_admin(client_super, admin_b, domain_b):
    response = client_super.post("/accounts/admins/admin-b/delete/")
    assert response["Location"] == "/accounts/admins/"
    assert not get_user_model().objects.filter(username="admin-b").exists()
    assert AuditEntry.objects.filter(action="delete", object_type="user").count() == 1
    assert domain_b.mailboxes.count() == 2


def test_password_change_refuses_other_methods(client_a):
    assert client_a.put("/accounts/password/").status_code == 405
    assert client_a.delete("/accounts/password/").status_code == 405


# --- throttling: brute force stays slow, the real admin is never locked out --------------------


def test_a_logged_in_admin_on_the_login_page_follows_only_a_safe_next(client_a):
    assert client_a.get("/accounts/login/?next=foo")["Location"] == "/"
    assert client_a.get("/accounts/login/?next=/domains/")["Location"] == "/domains/"
    assert client_a.get("/accounts/login/?next=https://evil.example/")["Location"] == "/"
    assert client_a.get("/accounts/login/?next=//evil.example/")["Location"] == "/"


def test_a_delayed_login_says_when_to_try_again_also_for_htmx(client, admin_a, htmx):
    for _ in range(5):
        login(client, "admin-a", "wrong password")
    response = client.post(
        "/accounts/login/", {"username": "admin-a", "password": PASSWORD}, headers=htmx
    )
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert "Too many failed logins. Try again in 1 minute." in response.content.decode()
    assert 55 <= int(response["Retry-After"]) <= 60
    assert "_auth_user_id" not in client.session


def test_failures_from_other_networks_never_refuse_the_right_password(admin_a):
    for n in range(4):
        attacker = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        for _ in range(5):
            login(attacker, "admin-a", "wrong password")
    client = Client(REMOTE_ADDR="192.0.2.1")
    assert logged_in_as(client, login(client, "admin-a", PASSWORD), "admin-a")


def test_many_names_failing_behind_one_nat_do_not_refuse_its_other_admins(admin_a):
    nat = "203.0.113.50"
    for i in range(20):
        login(Client(REMOTE_ADDR=nat), f"someone{i}", "wrong password")
    client = Client(REMOTE_ADDR=nat)
    assert logged_in_as(client, login(client, "admin-a", PASSWORD), "admin-a")


def test_ipv6_clients_are_counted_by_their_64_prefix(admin_a):
    for i in range(5):
        login(Client(REMOTE_ADDR=f"2001:db8:1:2::{i + 1}"), "admin-a", "wrong password")
    delayed = login(Client(REMOTE_ADDR="2001:db8:1:2::99"), "admin-a", PASSWORD)
    assert "Too many failed logins" in delayed.content.decode()
    client = Client(REMOTE_ADDR="2001:db8:1:3::1")
    assert logged_in_as(client, login(client, "admin-a", PASSWORD), "admin-a")


def test_owner_failures_do_not_delay_the_admin_of_the_same_name(domain_a):
    factories.domain_admin("alice@a.example", domain_a)
    for _ in range(5):
        Client(REMOTE_ADDR="198.51.100.7").post(
            "/me/login/", {"address": "alice@a.example", "password": "wrong password"}
        )
    client = Client(REMOTE_ADDR="198.51.100.7")
    assert logged_in_as(client, login(client, "alice@a.example", PASSWORD), "alice@a.example")


def test_wrong_current_passwords_on_the_password_form_are_throttled(client_a, admin_a):
    new = {"new_password1": "a much longer secret 42", "new_password2": "a much longer secret 42"}
    for _ in range(5):
        response = client_a.post("/accounts/password/", {"old_password": "wrong", **new})
        assert "Your old password was entered incorrectly" in response.content.decode()
    response = client_a.post("/accounts/password/", {"old_password": PASSWORD, **new})
    assert response.status_code == 200
    assert "Too many failed" in response.content.decode()
    admin_a.refresh_from_db()
    assert admin_a.check_password(PASSWORD)
    # Its own key space: the admin's login from the same network is not delayed by it.
    client = Client()
    assert logged_in_as(client, login(client, "admin-a", PASSWORD), "admin-a")


# --- usernames are validated in the form they are stored in ------------------------------------


@pytest.mark.parametrize("username", ["\u2474carol", "\u00bdcarol"])
def test_admin_create_refuses_a_username_invalid_once_normalised(client_super, username):
    response = client_super.post(
        "/accounts/admins/new/", {"username": username, "domains": "a.example"}
    )
    assert response.status_code == 200
    assert 'id="id_username_error"' in response.content.decode()
    assert not get_user_model().objects.filter(username__endswith="carol").exists()
    with pytest.raises(ValidationError) as exc:
        services.admin_create(actor=None, username=username, superadmin=True)
    assert list(exc.value.error_dict) == ["username"]
    [message] = exc.value.message_dict["username"]
    assert message.startswith("Enter a valid username."), message
    assert not get_user_model().objects.filter(username__endswith="carol").exists()


def test_admin_create_stores_and_compares_the_normalised_username(client_super, domain_a):
    fullwidth = "\uff43\uff41\uff52\uff4f\uff4c"  # "carol" in fullwidth letters
    response = client_super.post(
        "/accounts/admins/new/", {"username": fullwidth, "domains": "a.example"}
    )
    assert response.status_code == 200
    assert get_user_model().objects.filter(username="carol").exists()
    again = client_super.post("/accounts/admins/new/", {"username": fullwidth, "domains": ""})
    assert "An account with this username already exists." in again.content.decode()
