"""Creating, editing, enabling/disabling and deleting domains through the pages."""

from __future__ import annotations

import pytest
from django.core.exceptions import NON_FIELD_ERRORS

from audit.models import AuditEntry
from domains.models import AliasDomain, Domain
from mailboxes.models import Alias, Mailbox

pytestmark = pytest.mark.django_db

VALID = {
    "name": "new.example",
    "description": "New",
    "delivery": "hosted",
    "transport": "",
    "max_mailboxes": "10",
    "max_aliases": "0",
    "max_mailbox_quota": "2G",
    "total_quota": "0",
    "uid": "",
    "gid": "",
}


def test_superadmin_creates_a_domain_and_it_is_audited(client_super, superadmin):
    response = client_super.post("/domains/new/", VALID)
    assert response.status_code == 302
    assert response["Location"] == "/domains/new.example/"
    domain = Domain.objects.get(name="new.example")
    assert domain.max_mailboxes == 10
    assert domain.max_mailbox_quota == 2 * 1024**3
    entry = AuditEntry.objects.get(object_type="domain", action="create", domain="new.example")
    assert entry.actor == superadmin
    assert entry.domain == "new.example"
    assert entry.ip == "127.0.0.1"


def test_htmx_create_redirects_the_whole_page(client_super, htmx):
    response = client_super.post("/domains/new/", VALID, headers=htmx)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/domains/new.example/"


def test_idn_domain_is_stored_as_a_label_and_shown_in_unicode(client_super):
    response = client_super.post("/domains/new/", {**VALID, "name": "Bücher.example"}, follow=True)
    assert Domain.objects.filter(name="xn--bcher-kva.example").exists()
    assert "bücher.example" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "error_field", "message"),
    [
        ("name", "not a domain", "name", "A domain name cannot contain spaces."),
        ("name", "a.example", NON_FIELD_ERRORS, "The domain a.example already exists."),
        ("max_mailboxes", "-1", "max_mailboxes", "greater than or equal to 0."),
        ("max_mailbox_quota", "lots", "max_mailbox_quota", "“lots” is not a size"),
        ("uid", "0", "uid", "greater than or equal to 1."),
        ("uid", "10", "uid", "uid must be between 1000 and "),
        ("delivery", "relay", "transport", "A relayed domain needs a next hop"),
        ("delivery", "teleport", "delivery", "Select a valid choice."),
    ],
)
@pytest.mark.parametrize("as_htmx", [False, True])
def test_bad_input_shows_an_inline_message_and_changes_nothing(
    client_super, htmx, field, value, error_field, message, as_htmx
):
    before = set(Domain.objects.values_list("name", "max_mailboxes", "delivery"))
    audit_before = AuditEntry.objects.count()
    response = client_super.post(
        "/domains/new/", {**VALID, field: value}, headers=htmx if as_htmx else {}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [error_field], errors
    assert any(message in text for text in errors[error_field]), errors
    body = response.content.decode()
    assert message in body
    if error_field != NON_FIELD_ERRORS:
        assert f'id="id_{error_field}_error"' in body  # next to its field
    assert (b"<html" in response.content) is not as_htmx
    assert set(Domain.objects.values_list("name", "max_mailboxes", "delivery")) == before
    assert AuditEntry.objects.count() == audit_before


def test_superadmin_edits_limits_transport_and_owner(client_super, domain_a):
    data = {**VALID, "delivery": "relay", "transport": "smtp:[mx.example.net]:25", "uid": "6000"}
    data.pop("name")
    response = client_super.post("/domains/a.example/edit/", data)
    assert response.status_code == 302
    domain_a.refresh_from_db()
    assert (domain_a.delivery, domain_a.transport, domain_a.uid) == (
        "relay",
        "smtp:[mx.example.net]:25",
        6000,
    )
    entry = AuditEntry.objects.filter(action="update", domain="a.example").latest("id")
    assert entry.changes["uid"] == [None, 6000]


def test_edit_form_shows_quota_exactly(client_super, domain_a):
    Domain.objects.filter(pk=domain_a.pk).update(max_mailbox_quota=3 * 1024**3 + 1)
    body = client_super.get("/domains/a.example/edit/").content.decode()
    # In bytes, with the unit a typed size needs: saved unchanged, it is the same size.
    assert f'value="{3 * 1024**3 + 1}B"' in body


def test_domain_admin_may_change_only_the_description(client_a, domain_a):
    response = client_a.post(
        "/domains/a.example/edit/", {"description": "Ours", "max_mailboxes": "999"}
    )
    assert response.status_code == 302
    domain_a.refresh_from_db()
    assert domain_a.description == "Ours"
    assert domain_a.max_mailboxes == 0
    form = client_a.get("/domains/a.example/edit/").content.decode()
    assert 'name="max_mailboxes"' not in form


def test_disabling_asks_first(client_super, domain_a):
    response = client_super.post("/domains/a.example/toggle/", {"active": "0"})
    assert response.status_code == 302
    assert response["Location"] == "/domains/a.example/disable/?next=%2Fdomains%2Fa.example%2F"
    domain_a.refresh_from_db()
    assert domain_a.active
    page = client_super.get(response["Location"]).content.decode()
    assert "Disable a.example?" in page
    assert 'name="confirmed" value="1"' in page
    assert not AuditEntry.objects.filter(action="disable").exists()


def test_toggle_disables_and_enables(client_super, domain_a):
    response = client_super.post("/domains/a.example/toggle/", {"active": "0", "confirmed": "1"})
    assert response.status_code == 302
    domain_a.refresh_from_db()
    assert not domain_a.active
    assert AuditEntry.objects.filter(action="disable", domain="a.example").exists()
    # The same request twice changes nothing more.
    client_super.post("/domains/a.example/toggle/", {"active": "0", "confirmed": "1"})
    assert AuditEntry.objects.filter(action="disable", domain="a.example").count() == 1
    client_super.post("/domains/a.example/toggle/", {"active": "1"})
    domain_a.refresh_from_db()
    assert domain_a.active


def test_toggle_with_htmx_returns_the_row(client_super, htmx, domain_a):
    response = client_super.post(
        "/domains/a.example/toggle/", {"active": "0", "confirmed": "1"}, headers=htmx
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="domain-{domain_a.pk}"')
    assert "inactive" in body
    assert 'hx-swap-oob="true"' in body


def test_toggle_next_must_stay_on_the_site(client_super):
    response = client_super.post(
        "/domains/a.example/toggle/",
        {"active": "0", "confirmed": "1", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/domains/a.example/"
    assert not Domain.objects.get(name="a.example").active  # refused `next`, done toggle
    response = client_super.post("/domains/a.example/toggle/", {"active": "1", "next": "/domains/"})
    assert response["Location"] == "/domains/"
    assert Domain.objects.get(name="a.example").active


def test_delete_confirmation_states_exactly_what_goes(client_super, domain_a):
    body = client_super.get("/domains/a.example/delete/").content.decode()
    assert "2 mailboxes" in body
    assert "2 aliases" in body
    assert "1 alias domain" in body
    assert Domain.objects.filter(name="a.example").exists()


def test_delete_removes_the_domain_with_everything_in_it(client_super, domain_a, domain_b):
    response = client_super.post("/domains/a.example/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/domains/"
    assert "2 mailboxes, 2 aliases, 1 alias domain" in response.content.decode()
    assert not Domain.objects.filter(name="a.example").exists()
    assert not Mailbox.objects.filter(domain__name="a.example").exists()
    assert not Alias.objects.filter(domain__name="a.example").exists()
    assert not AliasDomain.objects.filter(name="alias-a.example").exists()
    assert Mailbox.objects.filter(domain=domain_b).count() == 2
    assert AuditEntry.objects.filter(action="delete", object_type="domain").count() == 1
