"""Owner login: who may log in, what a refusal says, throttling, session rules."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import LoginThrottle
from domains import services as domain_services
from mailadmin.passwords import verify_password
from mailboxes import services as mailbox_services
from mailboxes.models import Mailbox
from selfservice.services import (
    OwnerLoginFailed,
    OwnerLoginLocked,
    mailbox_set_owner_access,
    owner_login,
)
from selfservice.session import OWNER_SESSION_KEY
from tests import factories
from tests.selfservice.conftest import OWNER, OWNER_PASSWORD, login_owner

REFUSED = "The address or the password is wrong, or this mailbox may not log in here."


def refusal_of(response) -> str:
    """The login page's error block, to compare refusals byte for byte."""
    html = response.content.decode()
    start = html.index('<ul class="errorlist nonfield"')
    return html[start : html.index("</ul>", start)]


@pytest.mark.django_db
def test_owner_logs_in_with_the_mail_password(owner: Mailbox) -> None:
    client = Client()
    client.get("/me/login/")
    before = client.session.session_key
    response = login_owner(client)
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    # A new session id at login (no fixation); the owner is no Django user.
    assert client.session.session_key != before
    assert client.session[OWNER_SESSION_KEY]["id"] == owner.pk
    assert "_auth_user_id" not in client.session
    page = client.get("/me/")
    assert page.status_code == 200
    assert OWNER in page.content.decode()


@pytest.mark.django_db
def test_address_case_and_spaces_do_not_matter(owner: Mailbox) -> None:
    response = login_owner(Client(), address="  John@EXAMPLE.com ")
    assert response["Location"] == "/me/"


@pytest.fixture
def refused_cases(example):
    """One mailbox (or none) per reason a login is refused, each with its right password."""
    factories.mailbox("off@example.com", password=OWNER_PASSWORD, active=False)
    closed = factories.domain("closed.example")
    factories.mailbox("lone@closed.example", password=OWNER_PASSWORD)
    domain_services.domain_set_active(actor=None, domain=closed, active=False)
    moved = factories.domain("moved.example")
    factories.mailbox("rel@moved.example", password=OWNER_PASSWORD)
    domain_services.domain_update(
        actor=None, domain=moved, delivery="relay", transport="smtp:[mx.example.net]:25"
    )
    barred = factories.mailbox("barred@example.com", password=OWNER_PASSWORD)
    mailbox_set_owner_access(actor=None, mailbox=barred, panel_login_enabled=False)
    factories.mailbox(OWNER, password=OWNER_PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("address", "password"),
    [
        (OWNER, "Mellow-Harbour-43"),  # wrong password
        ("nobody@example.com", OWNER_PASSWORD),  # unknown address
        ("not an address", OWNER_PASSWORD),
        ("off@example.com", OWNER_PASSWORD),  # inactive mailbox, right password
        ("lone@closed.example", OWNER_PASSWORD),  # inactive domain, right password
        ("rel@moved.example", OWNER_PASSWORD),  # domain no longer hosted here
        ("barred@example.com", OWNER_PASSWORD),  # panel login disabled by an admin
    ],
)
def test_every_refusal_says_the_same(refused_cases, address: str, password: str) -> None:
    client = Client()
    response = login_owner(client, address, password)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    reference = login_owner(Client(), OWNER, "definitely-wrong-password")
    assert refusal_of(response) == refusal_of(reference)
    assert OWNER_SESSION_KEY not in client.session
    assert client.get("/me/")["Location"] == "/me/login/"


@pytest.mark.django_db
def test_failure_is_logged_for_fail2ban(owner: Mailbox, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="mailadmin.auth"):
        login_owner(Client(REMOTE_ADDR="203.0.113.9"), OWNER, "wrong-password-here")
    assert "authentication failure kind=owner user=john@example.com rhost=203.0.113.9" in (
        caplog.text
    )


@pytest.mark.django_db
def test_after_the_free_failures_even_the_right_password_waits_until_the_delay_ends(
    owner: Mailbox, settings
) -> None:
    settings.MAILADMIN_LOGIN_FREE_FAILURES = 3
    settings.MAILADMIN_LOGIN_DELAY_SECONDS = 600
    client = Client()
    for _ in range(3):
        assert REFUSED in login_owner(client, OWNER, "wrong-password-here").content.decode()
    delayed = login_owner(client)
    assert delayed.status_code == 200
    assert "Too many failed logins. Try again in 10 minutes." in delayed.content.decode()
    assert 590 < int(delayed["Retry-After"]) <= 600
    assert OWNER_SESSION_KEY not in client.session
    # The delay ends: move it into the past instead of waiting.
    past = timezone.now() - timedelta(seconds=1)
    assert LoginThrottle.objects.filter(blocked_until__isnull=False).update(blocked_until=past)
    assert login_owner(client)["Location"] == "/me/"


@pytest.mark.django_db
def test_a_delay_on_another_ip_does_not_delay_this_one(owner: Mailbox, settings) -> None:
    settings.MAILADMIN_LOGIN_FREE_FAILURES = 2
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(2):
        login_owner(attacker, OWNER, "wrong-password-here")
    assert "Too many failed logins" in login_owner(attacker).content.decode()
    assert login_owner(Client(REMOTE_ADDR="192.0.2.1"))["Location"] == "/me/"


@pytest.mark.django_db
def test_wrong_current_passwords_on_the_change_form_count_as_failures(
    owner_client: Client, settings
) -> None:
    settings.MAILADMIN_LOGIN_FREE_FAILURES = 2
    data = {"new_password": "Quiet-Meadow-77", "new_password_again": "Quiet-Meadow-77"}
    first = owner_client.post("/me/password/", {"current_password": "guess-one", **data})
    assert "That is not your current password." in first.content.decode()
    owner_client.post("/me/password/", {"current_password": "guess-two", **data})
    # Delayed now: even the right current password ends the session.
    third = owner_client.post("/me/password/", {"current_password": OWNER_PASSWORD, **data})
    assert third["Location"] == "/me/login/"
    assert owner_client.get("/me/")["Location"] == "/me/login/"
    assert verify_password(OWNER_PASSWORD, Mailbox.objects.get(domain__name="example.com").password)


@pytest.mark.django_db
def test_forced_password_change_comes_first(owner: Mailbox, admin_user) -> None:
    mailbox_set_owner_access(actor=admin_user, mailbox=owner, must_change_password=True)
    client = Client()
    assert login_owner(client)["Location"] == "/me/password/"
    assert client.get("/me/")["Location"] == "/me/password/"
    assert client.get("/me/forwarding/")["Location"] == "/me/password/"
    response = client.post(
        "/me/password/",
        {
            "current_password": OWNER_PASSWORD,
            "new_password": "Quiet-Meadow-77",
            "new_password_again": "Quiet-Meadow-77",
        },
    )
    assert response["Location"] == "/me/"
    owner.refresh_from_db()
    assert not owner.must_change_password
    assert client.get("/me/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["admin_sets_password", "mailbox_off", "domain_off", "barred"])
def test_session_ends_when_the_mailbox_changes_elsewhere(
    owner_client: Client, owner: Mailbox, change: str
) -> None:
    assert owner_client.get("/me/").status_code == 200
    if change == "admin_sets_password":
        mailbox_services.mailbox_set_password(actor=None, mailbox=owner, password="Another-1234")
    elif change == "mailbox_off":
        mailbox_services.mailbox_set_active(actor=None, mailbox=owner, active=False)
    elif change == "domain_off":
        domain_services.domain_set_active(actor=None, domain=owner.domain, active=False)
    else:
        mailbox_set_owner_access(actor=None, mailbox=owner, panel_login_enabled=False)
    assert owner_client.get("/me/")["Location"] == "/me/login/"
    assert OWNER_SESSION_KEY not in owner_client.session


@pytest.mark.django_db
def test_logout_ends_the_owner_session(owner_client: Client) -> None:
    assert owner_client.get("/me/logout/").status_code == 405  # POST only
    response = owner_client.post("/me/logout/")
    assert response["Location"] == "/me/login/"
    assert OWNER_SESSION_KEY not in owner_client.session
    assert owner_client.get("/me/")["Location"] == "/me/login/"


@pytest.mark.django_db
def test_owner_login_ends_an_admin_session_in_the_same_browser(
    admin_client: Client, owner: Mailbox
) -> None:
    assert "_auth_user_id" in admin_client.session
    assert login_owner(admin_client)["Location"] == "/me/"
    assert "_auth_user_id" not in admin_client.session
    assert admin_client.get("/me/").status_code == 200


@pytest.mark.django_db
def test_an_admin_login_in_the_owners_browser_ends_the_owner_session(
    owner_client: Client, admin_user
) -> None:
    owner_client.force_login(admin_user)
    assert owner_client.get("/me/")["Location"] == "/me/login/"
    assert OWNER_SESSION_KEY not in owner_client.session


# --- throttling on the canonical address, never a lock for the real owner ---------------------

# Spellings that the login resolves to john@example.com: a trailing dot, spaces around the @,
# fullwidth letters, an ideographic full stop, case. The service test below adds a soft hyphen,
# which a form field may not even carry to the login.
SPELLINGS = [
    "john@example.com.",
    "john @ example.com",
    "john@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.\uff43\uff4f\uff4d",
    "john@example\u3002com",
    "john@\uff45xample.com",
    "JOHN@Example.COM",
]
WRONG = "wrong-password-here"


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_delayed_address_is_delayed_in_every_spelling(owner: Mailbox, spelling: str) -> None:
    assert login_owner(Client(REMOTE_ADDR="198.51.100.7"), spelling)["Location"] == "/me/"
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(5):
        login_owner(client, OWNER, WRONG)
    response = login_owner(client, spelling)
    assert "Too many failed logins" in response.content.decode()
    assert OWNER_SESSION_KEY not in client.session


@pytest.mark.django_db
def test_guesses_in_other_spellings_count_for_the_address(owner: Mailbox) -> None:
    client = Client(REMOTE_ADDR="198.51.100.7")
    for spelling in SPELLINGS[:5]:
        assert REFUSED in login_owner(client, spelling, WRONG).content.decode()
    response = login_owner(client)
    assert "Too many failed logins" in response.content.decode()
    assert OWNER_SESSION_KEY not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", [*SPELLINGS, "john@exam\u00adple.com"])
def test_the_login_service_counts_every_spelling_as_the_address(
    owner: Mailbox, spelling: str
) -> None:
    for _ in range(5):
        with pytest.raises(OwnerLoginFailed):
            owner_login(address=spelling, password=WRONG, ip="198.51.100.7")
    with pytest.raises(OwnerLoginLocked):
        owner_login(address=OWNER, password=OWNER_PASSWORD, ip="198.51.100.7")
    with pytest.raises(OwnerLoginLocked):
        owner_login(address=spelling, password=OWNER_PASSWORD, ip="198.51.100.7")
    assert owner_login(address=spelling, password=OWNER_PASSWORD, ip="192.0.2.1") == owner


@pytest.mark.django_db
def test_failures_from_other_networks_never_refuse_the_right_password(owner: Mailbox) -> None:
    for n in range(4):
        attacker = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        for _ in range(5):
            login_owner(attacker, OWNER, WRONG)
    assert login_owner(Client(REMOTE_ADDR="192.0.2.1"))["Location"] == "/me/"


@pytest.mark.django_db
def test_many_addresses_failing_behind_one_nat_do_not_refuse_its_other_users(
    owner: Mailbox,
) -> None:
    nat = "203.0.113.50"
    for i in range(20):
        login_owner(Client(REMOTE_ADDR=nat), f"user{i}@example.com", WRONG)
    assert login_owner(Client(REMOTE_ADDR=nat))["Location"] == "/me/"


@pytest.mark.django_db
def test_owner_login_rotates_the_csrf_token_and_the_session_key(owner: Mailbox) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/me/login/")
    token_before = client.cookies["csrftoken"].value
    client.session.save()
    session_before = client.session.session_key
    response = client.post(
        "/me/login/",
        {
            "address": OWNER,
            "password": OWNER_PASSWORD,
            "csrfmiddlewaretoken": str(page.context["csrf_token"]),
        },
    )
    assert response["Location"] == "/me/"
    assert client.cookies["csrftoken"].value != token_before
    assert client.session.session_key != session_before
    assert client.session[OWNER_SESSION_KEY]["id"] == owner.pk
