"""The audit log: written by every service, filtered, scoped to the admin's domains."""

from __future__ import annotations

import datetime

import pytest

from audit.models import AuditEntry
from audit.services import record
from domains import services as domain_services
from mailboxes import services as mailbox_services
from mailboxes.models import Alias, Mailbox

pytestmark = pytest.mark.django_db


def test_mailbox_and_alias_services_write_entries(superadmin, domain_a):
    AuditEntry.objects.all().delete()
    mailbox = Mailbox.objects.get(local_part="alice", domain=domain_a)
    mailbox_services.mailbox_set_password(actor=superadmin, mailbox=mailbox, password="x" * 12)
    mailbox_services.mailbox_update(actor=superadmin, mailbox=mailbox, name="Alice A.")
    mailbox_services.mailbox_set_active(actor=superadmin, mailbox=mailbox, active=False)
    alias = Alias.objects.get(local_part="sales", domain=domain_a)
    mailbox_services.alias_set_destinations(
        actor=superadmin, alias=alias, destinations=["alice@a.example"]
    )
    mailbox_services.alias_set_active(actor=superadmin, alias=alias, active=False)
    mailbox_services.alias_delete(actor=superadmin, alias=alias)
    mailbox_services.mailbox_delete(actor=superadmin, mailbox=mailbox)
    entries = list(AuditEntry.objects.order_by("id").values_list("action", "object_type"))
    assert entries == [
        ("password", "mailbox"),
        ("update", "mailbox"),
        ("disable", "mailbox"),
        ("update", "alias"),
        ("disable", "alias"),
        ("delete", "alias"),
        ("delete", "mailbox"),
    ]
    update = AuditEntry.objects.get(action="update", object_type="mailbox")
    assert update.changes == {"name": ["Alice", "Alice A."]}
    destinations = AuditEntry.objects.get(action="update", object_type="alias")
    assert destinations.changes == {
        "destinations": [["alice@a.example", "bob@a.example"], ["alice@a.example"]]
    }
    assert all(e.domain == "a.example" for e in AuditEntry.objects.all())
    assert all(e.actor_label == "root" for e in AuditEntry.objects.all())
    assert "x" * 12 not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_alias_domain_and_server_settings_are_audited(domain_a, alias_domain_a):
    domain_services.alias_domain_set_active(actor=None, alias_domain=alias_domain_a, active=False)
    domain_services.alias_domain_delete(actor=None, alias_domain=alias_domain_a)
    domain_services.server_settings_update(actor=None, default_uid=6000)
    actions = list(AuditEntry.objects.order_by("-id")[:3].values_list("action", "object_type"))
    assert actions == [
        ("update", "serversettings"),
        ("delete", "aliasdomain"),
        ("disable", "aliasdomain"),
    ]
    assert AuditEntry.objects.filter(actor_label="system").exists()


def test_an_unchanged_save_writes_no_entry(domain_a):
    before = AuditEntry.objects.count()
    domain_services.domain_update(actor=None, domain=domain_a, description=domain_a.description)
    assert AuditEntry.objects.count() == before


def test_a_failed_write_leaves_no_entry(domain_a):
    from django.core.exceptions import ValidationError

    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as info:
        mailbox_services.mailbox_create(actor=None, address="alice@a.example", password="x" * 12)
    assert info.value.message_dict == {"address": ["The mailbox alice@a.example already exists."]}
    assert AuditEntry.objects.count() == before


def test_domain_admins_see_only_their_domains_entries(client_a, client_super):
    record(actor=None, action="update", obj=None, domain="")  # an admin-account change
    mine = client_a.get("/audit/").context["page"].object_list
    assert mine
    assert {e.domain for e in mine} == {"a.example"}
    everything = client_super.get("/audit/").context["page"].object_list
    assert {e.domain for e in everything} == {"a.example", "b.example", ""}


def test_domain_admin_cannot_filter_into_a_foreign_domain(client_a):
    response = client_a.get("/audit/?domain=b.example")
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert list(response.context["form"].errors) == ["domain"]
    assert all(e.domain == "a.example" for e in response.context["page"])


def test_filters(client_super, superadmin):
    record(actor=superadmin, action="update", obj=None, domain="a.example")
    page = client_super.get("/audit/?actor=roo").context["page"]
    assert [e.actor_label for e in page] == ["root"]
    page = client_super.get("/audit/?domain=b.example&object_type=mailbox").context["page"]
    assert len(page) == 2
    assert {e.object_type for e in page} == {"mailbox"}
    today = datetime.date.today().isoformat()
    assert len(client_super.get(f"/audit/?day={today}").context["page"]) > 0
    assert len(client_super.get("/audit/?day=2001-01-01").context["page"]) == 0


def test_bad_filter_input_is_an_inline_message(client_super):
    response = client_super.get("/audit/?day=yesterday")
    assert response.status_code == 200
    assert 'id="id_day_error"' in response.content.decode()


def test_audit_page_whole_and_partial_and_methods(client_super, htmx, client):
    assert b"<html" in client_super.get("/audit/").content
    assert b"<html" not in client_super.get("/audit/", headers=htmx).content
    assert client_super.post("/audit/").status_code == 405
    assert client.get("/audit/").status_code == 302


def test_ip_comes_from_the_request(client_super):
    client_super.post(
        "/domains/a.example/toggle/",
        {"active": "0", "confirmed": "1"},
        REMOTE_ADDR="203.0.113.7",
    )
    entry = AuditEntry.objects.get(action="disable", domain="a.example")
    assert entry.ip == "203.0.113.7"


def test_changes_are_shown_as_old_and_new_with_translated_actions(client_super, superadmin):
    domain_services.domain_update(
        actor=superadmin,
        domain=domain_services.Domain.objects.get(name="a.example"),
        max_mailboxes=5,
    )
    body = client_super.get("/audit/?object_type=domain").content.decode()
    assert "0 → 5" in body
    assert '<span class="badge">changed</span>' in body
    client_super.cookies["django_language"] = "uk"
    body = client_super.get("/audit/?object_type=domain").content.decode()
    assert '<span class="badge">змінено</span>' in body
    assert '<span class="badge">changed</span>' not in body


def test_idn_domains_are_shown_in_unicode(client_super):
    from tests import factories

    factories.domain("bücher.example")
    body = client_super.get("/audit/?domain=xn--bcher-kva.example").content.decode()
    assert "bücher.example" in body


def test_the_domain_filter_is_a_typed_name_not_a_list_of_every_domain(client_super, superadmin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests import factories

    factories.domain("bücher.example")
    record(actor=superadmin, action="update", obj=None, domain="xn--bcher-kva.example")
    page = client_super.get("/audit/").content.decode()
    assert '<select name="domain"' not in page and 'name="domain"' in page
    found = client_super.get("/audit/?domain=Bücher.example").context["page"].object_list
    assert {e.domain for e in found} == {"xn--bcher-kva.example"}
    bad = client_super.get("/audit/?domain=not a domain")
    assert list(bad.context["form"].errors) == ["domain"]
    # The page reads no domain names however many there are.
    with CaptureQueriesContext(connection) as before:
        client_super.get("/audit/")
    for n in range(5):
        factories.domain(f"more{n}.example")
    with CaptureQueriesContext(connection) as after:
        client_super.get("/audit/")
    assert len(after) == len(before)
