"""The server settings page (/server/): superadmins only, written through the service that
`manage.py server set` uses, audited, in English and Ukrainian."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from domains.models import ServerSettings

pytestmark = pytest.mark.django_db

URL = "/server/"


def stored() -> tuple[int, int, str]:
    row = ServerSettings.load()
    return row.default_uid, row.default_gid, row.postmaster_address


def form_data(**changes: str) -> dict[str, str]:
    data = {"default_uid": "5000", "default_gid": "5000", "postmaster_address": "noc@example.net"}
    data.update(changes)
    return data


def test_superadmin_sees_the_values_and_what_they_mean(client_super: Client) -> None:
    response = client_super.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="default_uid" value="5000"' in body
    assert 'name="postmaster_address" value="postmaster@localhost"' in body
    assert "Where postmaster@ and abuse@ of every domain go" in body
    assert "MAILADMIN_MIN_UID" in body
    # The top navigation leads here from every page.
    assert 'href="/server/"' in client_super.get("/").content.decode()


def test_superadmin_changes_them_and_the_change_is_audited(client_super: Client) -> None:
    response = client_super.post(
        URL, form_data(default_uid="6000", default_gid="6001", postmaster_address="NOC@Example.NET")
    )
    assert response.status_code == 302
    assert response["Location"] == URL
    assert stored() == (6000, 6001, "noc@example.net")
    entry = AuditEntry.objects.get(object_type="serversettings")
    assert entry.actor_label == "root"
    assert entry.changes["default_uid"] == [5000, 6000]
    assert entry.ip == "127.0.0.1"
    assert entry.changes["postmaster_address"] == ["postmaster@localhost", "noc@example.net"]
    page = client_super.get(URL).content.decode()
    assert "The server settings are saved." in page


def test_an_empty_postmaster_address_refuses_role_mail(client_super: Client) -> None:
    client_super.post(URL, form_data(postmaster_address=""))
    assert stored() == (5000, 5000, "")


def test_htmx_gets_the_form_and_a_redirect_header(client_super: Client, htmx) -> None:
    invalid = client_super.post(URL, form_data(default_uid="5"), headers=htmx)
    assert invalid.status_code == 200
    body = invalid.content.decode()
    assert body.lstrip().startswith("<form")
    assert "<html" not in body
    saved = client_super.post(URL, form_data(default_uid="6000"), headers=htmx)
    assert saved["HX-Redirect"] == URL


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"default_uid": "5"}, "default_uid must be between 1000 and 2147483647."),
        ({"default_gid": "0"}, "default_gid must be between 1000 and 2147483647."),
        ({"default_uid": "2147483648"}, "default_uid must be between 1000 and 2147483647."),
        ({"postmaster_address": "not an address"}, "is not an e-mail address"),
        ({"postmaster_address": "x@host"}, "is not a fully qualified domain name"),
    ],
)
def test_invalid_values_show_the_services_message_and_change_nothing(
    client_super: Client, changes: dict[str, str], message: str
) -> None:
    before = list(ServerSettings.objects.values())
    response = client_super.post(URL, form_data(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(ServerSettings.objects.values()) == before
    assert not AuditEntry.objects.filter(object_type="serversettings").exists()


def test_a_value_that_is_no_number_is_refused_by_the_form(client_super: Client) -> None:
    before = stored()
    response = client_super.post(URL, form_data(default_uid="many"))
    assert response.status_code == 200
    assert response.context["form"].errors["default_uid"]
    assert stored() == before


def test_domain_admin_gets_404_and_changes_nothing(client_a: Client) -> None:
    before = stored()
    assert client_a.get(URL).status_code == 404
    assert client_a.post(URL, form_data(default_uid="6000")).status_code == 404
    assert client_a.put(URL).status_code == 404
    assert stored() == before
    assert 'href="/server/"' not in client_a.get("/").content.decode()


def test_anonymous_is_sent_to_the_login(client: Client, domain_a) -> None:
    before = stored()
    for response in (client.get(URL), client.post(URL, form_data(default_uid="6000"))):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=/server/")
    assert stored() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_method(client_super: Client, method: str) -> None:
    assert getattr(client_super, method)(URL).status_code == 405


def test_query_counts(client_super: Client, django_assert_num_queries) -> None:
    client_super.get(URL)  # the session row is read from here on like on every page
    # Session and user, the settings row.
    with django_assert_num_queries(3):
        assert client_super.get(URL).status_code == 200
    # Session and user, then the service: the row locked, its three check constraints (each
    # in a savepoint), the update and the audit entry, inside a savepoint of its own.
    with django_assert_num_queries(16):
        assert client_super.post(URL, form_data(default_uid="6000")).status_code == 302


def test_in_ukrainian(client_super: Client) -> None:
    client_super.cookies["django_language"] = "uk"
    body = client_super.get(URL).content.decode()
    for words in ("Налаштування сервера", "Типовий uid", "Адреса postmaster", "Зберегти"):
        assert words in body, words
    body = client_super.post(URL, form_data(default_uid="5")).content.decode()
    assert "default_uid має бути від 1000 до 2147483647." in body
    assert "must be between" not in body
    saved = client_super.post(URL, form_data(default_uid="6000"), follow=True)
    assert "Налаштування сервера збережено." in saved.content.decode()
