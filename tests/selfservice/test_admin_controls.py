"""The admins' controls over the self-service: owner access and forwarding limits."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client

from audit.models import AuditEntry
from domains.models import Domain
from mailboxes.models import Mailbox
from selfservice.session import OWNER_SESSION_KEY
from tests.selfservice.conftest import OWNER, login_owner


@pytest.mark.django_db
def test_admin_forces_a_change_and_disables_the_panel_login(
    admin_client: Client, admin_user, owner: Mailbox
) -> None:
    url = f"/me/admin/mailboxes/{OWNER}/"
    page = admin_client.get(url)
    assert 'name="panel_login_enabled" checked' in page.content.decode().replace(
        ' id="id_panel_login_enabled"', ""
    )
    response = admin_client.post(url, {"panel_login_enabled": "on", "must_change_password": "on"})
    assert response["Location"] == url
    owner.refresh_from_db()
    assert (owner.panel_login_enabled, owner.must_change_password) == (True, True)
    assert login_owner(Client())["Location"] == "/me/password/"

    admin_client.post(url, {})  # both unticked
    owner.refresh_from_db()
    assert (owner.panel_login_enabled, owner.must_change_password) == (False, False)
    refused = Client()
    response = login_owner(refused)
    assert response.status_code == 200
    assert "this mailbox may not log in here" in response.content.decode()
    assert OWNER_SESSION_KEY not in refused.session
    entries = AuditEntry.objects.filter(action="owner_access").order_by("id")
    assert [e.changes for e in entries] == [
        {"must_change_password": [False, True]},
        {"panel_login_enabled": [True, False], "must_change_password": [True, False]},
    ]
    assert all(e.actor == admin_user for e in entries)


@pytest.mark.django_db
def test_admin_sets_the_domains_forwarding_limits(admin_client: Client, example: Domain) -> None:
    url = "/me/admin/domains/example.com/forwarding/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"owner_forwarding": "local", "max_forwards": "2"})
    assert response["Location"] == url
    example.refresh_from_db()
    assert (example.owner_forwarding, example.max_forwards) == ("local", 2)
    bad = admin_client.post(url, {"owner_forwarding": "everywhere", "max_forwards": "-1"})
    assert bad.status_code == 200
    example.refresh_from_db()
    assert (example.owner_forwarding, example.max_forwards) == ("local", 2)


@pytest.mark.django_db
def test_admin_pages_send_anonymous_visitors_to_the_admin_login(client: Client, owner) -> None:
    for url in (
        f"/me/admin/mailboxes/{OWNER}/",
        "/me/admin/domains/example.com/forwarding/",
        "/me/admin/policy/",
    ):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (
            302,
            "/accounts/login/?next=" + quote(url, safe="/"),
        )
