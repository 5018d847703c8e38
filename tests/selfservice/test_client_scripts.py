"""The mail client's ManageSieve scripts on the owner's page and the admin's page of the
mailbox, when the panel cannot ask Dovecot: the pages work and say so, and never show a state.

With a real Dovecot (the scripts listed, the active one marked, a wrong key) in
tests/e2e/test_managesieve.py.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from mailadmin import doveadm
from mailboxes.models import Mailbox
from sieve.client_scripts import NOT_SET_UP, UNAVAILABLE, client_scripts_of
from tests.dovecot_harness import free_loopback_port
from tests.selfservice.conftest import OWNER
from tests.support import fresh_settings

KEY = "aKeyOfLettersAndDigits0123456789"
ADMIN_URL = f"/me/admin/mailboxes/{OWNER}/"


def section(body: str) -> str:
    start = body.index('data-testid="client-scripts"')
    return body[start : body.index("</section>", start)]


@pytest.fixture
def unreachable(settings):
    """Dovecot's API on a loopback port where nothing listens (refused at once)."""
    settings.MAILADMIN_DOVEADM_URL = f"http://127.0.0.1:{free_loopback_port()}"
    settings.MAILADMIN_DOVEADM_API_KEY = KEY


def test_not_set_up_the_pages_say_they_cannot_tell(settings, owner_client, admin_client):
    settings.MAILADMIN_DOVEADM_URL = ""
    owner_part = section(owner_client.get("/me/").content.decode())
    admin_part = section(admin_client.get(ADMIN_URL).content.decode())
    for part in (owner_part, admin_part):
        assert 'data-state="not-set-up"' in part
        assert "not set up to ask the mail server" in part
        assert "run first" in part and "never changes or removes" in part
        assert "<li>" not in part and "no such scripts" not in part
    assert "MAILADMIN_DOVEADM_URL" in admin_part  # why, for the admin only
    assert "MAILADMIN_DOVEADM_URL" not in owner_part


@pytest.mark.usefixtures("unreachable")
def test_dovecot_down_the_pages_work_and_show_no_state(owner_client, admin_client, caplog):
    with caplog.at_level(logging.WARNING, logger="mailadmin.doveadm"):
        owner_response = owner_client.get("/me/")
        admin_response = admin_client.get(ADMIN_URL)
    assert owner_response.status_code == admin_response.status_code == 200
    owner_part = section(owner_response.content.decode())
    admin_part = section(admin_response.content.decode())
    for part in (owner_part, admin_part):
        assert 'data-state="unavailable"' in part
        assert "could not be asked just now" in part
        assert "<li>" not in part and "no such scripts" not in part and "None of them" not in part
        assert KEY not in part
    assert "Connection refused" in admin_part and "Connection refused" not in owner_part
    assert [r.getMessage() for r in caplog.records] == [
        "doveadm sieveList: cannot reach Dovecot: Connection refused"
    ] * 2


@pytest.mark.usefixtures("unreachable")
def test_the_error_never_names_the_key(owner: Mailbox) -> None:
    with pytest.raises(doveadm.DoveadmError) as failed:
        doveadm.run("sieveList", {"user": owner.address})
    assert KEY not in repr(failed.value) and failed.value.__cause__ is None
    assert failed.value.__suppress_context__
    state = client_scripts_of(owner)
    assert (state.state, state.scripts, state.active) == (UNAVAILABLE, (), None)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://doveadm:secret@127.0.0.1:8080", "must not carry a user or a password"),
        ("ftp://127.0.0.1:8080", "http:// or https://"),
        ("http://127.0.0.1:8080/?key=x", "query"),
        ("http://127.0.0.1:port", "not a number"),
    ],
)
def test_a_url_that_cannot_be_the_api_is_not_asked(settings, owner, url, reason) -> None:
    settings.MAILADMIN_DOVEADM_URL = url
    settings.MAILADMIN_DOVEADM_API_KEY = KEY
    state = client_scripts_of(owner)
    assert state.state == NOT_SET_UP and reason in state.reason
    assert "secret" not in state.reason


def test_the_api_is_under_the_listeners_url() -> None:
    assert doveadm.endpoint("http://127.0.0.1:8080") == doveadm.Endpoint(
        False, "127.0.0.1", 8080, "/doveadm/v1"
    )
    assert doveadm.endpoint("https://mail.example.com/dovecot/") == doveadm.Endpoint(
        True, "mail.example.com", None, "/dovecot/doveadm/v1"
    )


def test_uk_the_owner_reads_it_in_ukrainian(settings, owner_client) -> None:
    settings.MAILADMIN_DOVEADM_URL = ""
    owner_client.cookies["django_language"] = "uk"
    part = section(owner_client.get("/me/").content.decode())
    assert "Фільтри вашої поштової програми (ManageSieve)" in part


def settings_of(env: dict[str, str]) -> dict[str, object]:
    base = {"PATH": os.environ.get("PATH", ""), "SECRET_KEY": "x"}
    names = ["MAILADMIN_DOVEADM_URL", "MAILADMIN_DOVEADM_API_KEY"]
    return fresh_settings({**base, **env}, names)


def test_the_key_comes_from_the_environment_else_from_the_exports_secrets(
    tmp_path: Path,
) -> None:
    (tmp_path / ".mailadmin-secrets.json").write_text(json.dumps({"doveadm-api-key": "fromfile"}))
    export = {"MAILADMIN_EXPORT_DIR": str(tmp_path)}
    assert settings_of({**export, "MAILADMIN_DOVEADM_API_KEY": "fromenv"}) == {
        "MAILADMIN_DOVEADM_URL": "",
        "MAILADMIN_DOVEADM_API_KEY": "fromenv",
    }
    got = settings_of({**export, "MAILADMIN_DOVEADM_URL": "http://127.0.0.1:8080"})
    assert got == {
        "MAILADMIN_DOVEADM_URL": "http://127.0.0.1:8080",
        "MAILADMIN_DOVEADM_API_KEY": "fromfile",
    }
    nothing = settings_of({"MAILADMIN_EXPORT_DIR": str(tmp_path / "none")})
    assert nothing["MAILADMIN_DOVEADM_API_KEY"] == ""
