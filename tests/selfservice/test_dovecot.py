"""The real Dovecot and doveadm judge what the self-service pages store.

- A password changed on /me/password/ is at once the one Dovecot accepts (a private Dovecot
  reading the exported configuration against the test database), and the old one is refused.
- A hash in a legacy scheme, made by the real `doveadm pw -s`, lets its owner log in and is
  replaced by the default scheme, which the real `doveadm pw -t` verifies.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from mailadmin.passwords import BCRYPT_ROUNDS, scheme_of
from mailboxes.models import Mailbox
from selfservice.session import OWNER_SESSION_KEY
from tests import factories
from tests.dovecot_harness import PrivateDovecot, doveadm_pw_hash, doveadm_pw_verify
from tests.selfservice.conftest import OWNER, OWNER_PASSWORD, login_owner
from tests.selfservice.stack import ExportedDB, export_test_database

pytestmark = pytest.mark.tools

NEW_PASSWORD = "Quiet-Meadow-77 ü"


@pytest.fixture(scope="module")
def dovecot(
    django_db_setup, django_db_blocker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrivateDovecot]:
    work = tmp_path_factory.mktemp("owner-dovecot")
    with django_db_blocker.unblock(), export_test_database(work) as exported:
        assert isinstance(exported, ExportedDB)
        with PrivateDovecot(work / "dovecot", includes=[exported.dovecot_include]) as server:
            yield server
            problems = server.log_problems()
        assert not problems, "Dovecot logged problems:\n" + "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_password_changed_on_the_page_is_the_one_dovecot_accepts(dovecot: PrivateDovecot) -> None:
    factories.domain("example.com")
    factories.mailbox(OWNER, password=OWNER_PASSWORD)
    assert dovecot.auth_test(OWNER, OWNER_PASSWORD).ok
    client = Client()
    assert login_owner(client)["Location"] == "/me/"
    response = client.post(
        "/me/password/",
        {
            "current_password": OWNER_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response["Location"] == "/me/"
    # Same running Dovecot, no reload: the next lookup sees the new hash.
    new = dovecot.auth_test(OWNER, NEW_PASSWORD)
    assert new.ok, new.output
    assert new.fields["user"] == OWNER
    old = dovecot.auth_test(OWNER, OWNER_PASSWORD)
    assert not old.ok, old.output
    stored = Mailbox.objects.get().password
    assert scheme_of(stored) == "ARGON2ID"
    # The session that changed it stays logged in.
    assert client.get("/me/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_refused_change_leaves_dovecot_on_the_old_password(dovecot: PrivateDovecot) -> None:
    factories.domain("example.com")
    factories.mailbox(OWNER, password=OWNER_PASSWORD)
    client = Client()
    login_owner(client)
    for current, new, reason in [
        ("not-the-current-one", NEW_PASSWORD, "That is not your current password."),
        (OWNER_PASSWORD, "password123", "That password is too common."),
        (OWNER_PASSWORD, "john@example.com", "A password cannot be or contain your address."),
        (OWNER_PASSWORD, "short", "A password needs at least"),
    ]:
        response = client.post(
            "/me/password/",
            {"current_password": current, "new_password": new, "new_password_again": new},
        )
        assert response.status_code == 200
        assert reason in response.content.decode(), new
        assert not dovecot.auth_test(OWNER, new).ok
    assert dovecot.auth_test(OWNER, OWNER_PASSWORD).ok


LEGACY = [
    ("SHA512-CRYPT", None),
    ("MD5-CRYPT", None),
    ("SSHA512", None),
    ("BLF-CRYPT", 5),  # another cost than the default 12
]


@pytest.mark.django_db
@pytest.mark.parametrize(("scheme", "rounds"), LEGACY, ids=[s for s, _ in LEGACY])
def test_legacy_hash_logs_in_and_becomes_the_default_scheme(
    example, scheme: str, rounds: int | None
) -> None:
    legacy = doveadm_pw_hash(scheme, OWNER_PASSWORD, rounds=rounds)
    assert legacy.startswith(f"{{{scheme}}}")
    mailbox = factories.mailbox(OWNER, password=None, password_hash=legacy)
    client = Client()
    assert login_owner(client)["Location"] == "/me/"
    mailbox.refresh_from_db()
    assert scheme_of(mailbox.password) == "ARGON2ID"
    assert doveadm_pw_verify(mailbox.password, OWNER_PASSWORD)
    assert not doveadm_pw_verify(mailbox.password, OWNER_PASSWORD + "x")
    # The new hash works for the next login too, and is not rehashed again.
    again = mailbox.password
    assert login_owner(Client())["Location"] == "/me/"
    mailbox.refresh_from_db()
    assert mailbox.password == again


@pytest.mark.django_db
def test_bcrypt_with_another_cost_is_rehashed_to_the_default_cost(example, settings) -> None:
    settings.MAILADMIN_PASSWORD_SCHEME = "BLF-CRYPT"
    legacy = doveadm_pw_hash("BLF-CRYPT", OWNER_PASSWORD, rounds=5)
    mailbox = factories.mailbox(OWNER, password=None, password_hash=legacy)
    assert login_owner(Client())["Location"] == "/me/"
    mailbox.refresh_from_db()
    assert mailbox.password != legacy
    assert mailbox.password.startswith(f"{{BLF-CRYPT}}$2b${BCRYPT_ROUNDS}$")
    assert doveadm_pw_verify(mailbox.password, OWNER_PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize(("scheme", "rounds"), LEGACY, ids=[s for s, _ in LEGACY])
def test_wrong_password_leaves_a_legacy_hash_alone(
    example, scheme: str, rounds: int | None
) -> None:
    legacy = doveadm_pw_hash(scheme, OWNER_PASSWORD, rounds=rounds)
    mailbox = factories.mailbox(OWNER, password=None, password_hash=legacy)
    client = Client()
    assert login_owner(client, OWNER, OWNER_PASSWORD[:-1]).status_code == 200
    assert OWNER_SESSION_KEY not in client.session
    mailbox.refresh_from_db()
    assert mailbox.password == legacy
