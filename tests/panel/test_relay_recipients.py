"""Relay recipient lists: the services, the panel pages (three personas) and the CLI.

A relay or backup-MX domain accepts only its listed local parts unless a superadmin lets it
accept every recipient (domains/relay.py); the mail-stack side is pinned elsewhere.
"""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from domains import relay, services
from domains.models import Domain, RelayRecipient
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def relay_a(admin_a) -> Domain:
    domain = factories.domain(
        "relay-a.example", delivery="relay", transport="smtp:[mx.a.example]:25"
    )
    domain.admins.add(admin_a)
    relay.relay_recipient_add(actor=None, domain=domain, local_part="info")
    return domain


@pytest.fixture
def relay_b(admin_b) -> Domain:
    domain = factories.domain("relay-b.example", delivery="backup")
    domain.admins.add(admin_b)
    relay.relay_recipient_add(actor=None, domain=domain, local_part="secret-b")
    return domain


def url(name: str, domain: str, *args: object) -> str:
    return reverse(f"domains:{name}", args=[domain, *args])


def snapshot() -> list[tuple[str, str]]:
    return list(
        RelayRecipient.objects.order_by("domain__name", "local_part").values_list(
            "domain__name", "local_part"
        )
    )


# --- model and services ----------------------------------------------------------------


def test_new_relay_domains_accept_only_listed_recipients() -> None:
    domain = factories.domain("r.example", delivery="backup")
    assert domain.relay_accept_any is False


def test_database_refuses_uppercase_and_empty_local_parts() -> None:
    domain = factories.domain("r.example", delivery="backup")
    for bad in ("Info", ""):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO domains_relayrecipient (domain_id, local_part, created_at) "
                "VALUES (%s, %s, CURRENT_TIMESTAMP)",
                [domain.pk, bad],
            )


def test_add_normalises_and_refuses_what_every_address_refuses() -> None:
    domain = factories.domain("r.example", delivery="relay", transport="smtp:[mx.example]:25")
    assert relay.relay_recipient_add(actor=None, domain=domain, local_part=" Info ").local_part == (
        "info"
    )
    for bad in ("", "a*b", "-x", "a b", "a/b"):
        with pytest.raises(ValidationError) as info:
            relay.relay_recipient_add(actor=None, domain=domain, local_part=bad)
        assert list(info.value.message_dict) == ["local_part"], bad
    with pytest.raises(ValidationError) as info:
        relay.relay_recipient_add(actor=None, domain=domain, local_part="INFO")
    assert info.value.message_dict == {
        "local_part": ["info@r.example is already a relay recipient."]
    }
    assert snapshot() == [("r.example", "info")]
    assert AuditEntry.objects.filter(object_type="relayrecipient", action="create").count() == 1


def test_hosted_domain_has_no_recipient_list() -> None:
    domain = factories.domain("h.example")
    with pytest.raises(ValidationError, match=r"h\.example is hosted here"):
        relay.relay_recipient_add(actor=None, domain=domain, local_part="info")
    with pytest.raises(ValidationError, match=r"h\.example is hosted here"):
        relay.relay_recipients_replace(actor=None, domain=domain, local_parts=["info"])
    assert not RelayRecipient.objects.filter(domain=domain).exists()


def test_domain_admin_keeps_own_list_but_not_a_foreign_one(
    admin_a, relay_a: Domain, relay_b: Domain
) -> None:
    relay.relay_recipient_add(actor=admin_a, domain=relay_a, local_part="sales")
    with pytest.raises(Domain.DoesNotExist):
        relay.relay_recipient_add(actor=admin_a, domain=relay_b, local_part="x")
    foreign = RelayRecipient.objects.get(local_part="secret-b")
    with pytest.raises(RelayRecipient.DoesNotExist):
        relay.relay_recipient_delete(actor=admin_a, recipient=foreign)
    assert ("relay-b.example", "secret-b") in snapshot()


def test_accept_any_is_a_superadmins_choice(admin_a, relay_a: Domain) -> None:
    with pytest.raises(PermissionDenied):
        services.domain_update(actor=admin_a, domain=relay_a, relay_accept_any=True)
    services.domain_update(actor=None, domain=relay_a, relay_accept_any=True)
    relay_a.refresh_from_db()
    assert relay_a.relay_accept_any is True


def test_replace_is_all_or_nothing(relay_a: Domain) -> None:
    with pytest.raises(ValidationError) as info:
        relay.relay_recipients_replace(actor=None, domain=relay_a, local_parts=["a", "b*"])
    [reason] = info.value.message_dict["local_part"]
    assert reason.startswith("“b*”: ") and list(info.value.message_dict) == ["local_part"]
    assert snapshot() == [("relay-a.example", "info")]
    result = relay.relay_recipients_replace(
        actor=None, domain=relay_a, local_parts=["Sales", "sales", "billing"]
    )
    assert result == {"added": 2, "removed": 1}
    assert snapshot() == [("relay-a.example", "billing"), ("relay-a.example", "sales")]


def test_deleting_the_domain_deletes_its_list(relay_a: Domain) -> None:
    services.domain_delete(actor=None, domain=relay_a)
    assert snapshot() == []


# --- panel -------------------------------------------------------------------------------


def test_list_shows_own_recipients(client_a: Client, relay_a: Domain, relay_b: Domain) -> None:
    body = client_a.get(url("relay_recipients", "relay-a.example")).content.decode()
    assert "info@relay-a.example" in body and "secret-b" not in body


def test_foreign_and_hosted_domains_are_404(
    client_a: Client, relay_a: Domain, relay_b: Domain
) -> None:
    assert client_a.get(url("relay_recipients", "relay-b.example")).status_code == 404
    assert client_a.get(url("relay_recipients", "a.example")).status_code == 404
    before = snapshot()
    assert (
        client_a.post(url("relay_recipient_add", "relay-b.example"), {"local_part": "x"})
    ).status_code == 404
    foreign = RelayRecipient.objects.get(local_part="secret-b")
    for domain in ("relay-a.example", "relay-b.example"):
        assert client_a.post(url("relay_recipient_delete", domain, foreign.pk)).status_code == 404
    assert client_a.get(
        url("relay_recipient_delete", "relay-a.example", foreign.pk)
    ).status_code == (404)
    assert snapshot() == before


def test_superadmin_sees_every_list(client_super: Client, relay_a: Domain, relay_b: Domain) -> None:
    body = client_super.get(url("relay_recipients", "relay-b.example")).content.decode()
    assert "secret-b@relay-b.example" in body


def test_add_and_delete(client_a: Client, relay_a: Domain) -> None:
    response = client_a.post(url("relay_recipient_add", "relay-a.example"), {"local_part": "Sales"})
    assert response.status_code == 302
    assert ("relay-a.example", "sales") in snapshot()
    bad = client_a.post(url("relay_recipient_add", "relay-a.example"), {"local_part": "a*"})
    assert bad.status_code == 200 and "doveadm" in bad.content.decode()
    pk = RelayRecipient.objects.get(local_part="sales").pk
    confirm = client_a.get(url("relay_recipient_delete", "relay-a.example", pk))
    assert confirm.status_code == 200 and "sales@relay-a.example" in confirm.content.decode()
    assert client_a.post(url("relay_recipient_delete", "relay-a.example", pk)).status_code == 302
    assert ("relay-a.example", "sales") not in snapshot()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("relay_recipients", "post"),
        ("relay_recipient_add", "get"),
        ("relay_recipient_delete", "put"),
    ],
)
def test_wrong_method_is_405(client_a: Client, relay_a: Domain, name: str, method: str) -> None:
    pk = RelayRecipient.objects.get(local_part="info").pk
    args = [pk] if name == "relay_recipient_delete" else []
    before = snapshot()
    assert getattr(client_a, method)(url(name, "relay-a.example", *args)).status_code == 405
    assert snapshot() == before


def test_search_plain_and_htmx(client_a: Client, relay_a: Domain, htmx) -> None:
    relay.relay_recipients_replace(
        actor=None, domain=relay_a, local_parts=["alpha", "beta", "gamma"]
    )
    body = client_a.get(url("relay_recipients", "relay-a.example"), {"q": "alp"}).content.decode()
    assert "alpha@" in body and "beta@" not in body
    fragment = client_a.get(
        url("relay_recipients", "relay-a.example"), {"q": "beta@relay-a.example"}, headers=htmx
    ).content.decode()
    assert "<html" not in fragment and "beta@" in fragment and "alpha@" not in fragment


def test_pages_through_on_the_server(client_a: Client, relay_a: Domain) -> None:
    RelayRecipient.objects.bulk_create(
        RelayRecipient(domain=relay_a, local_part=f"user{i:03d}") for i in range(60)
    )
    first = client_a.get(url("relay_recipients", "relay-a.example")).content.decode()
    second = client_a.get(url("relay_recipients", "relay-a.example"), {"page": 2}).content.decode()
    assert "info@" in first and "user048@" in first and "user049@" not in first
    assert "user049@" in second and "user059@" in second


@pytest.mark.parametrize("extra", [4, 59])
def test_list_query_count_does_not_grow_with_rows(
    client_a: Client, relay_a: Domain, extra: int, htmx, django_assert_num_queries
) -> None:
    RelayRecipient.objects.bulk_create(
        RelayRecipient(domain=relay_a, local_part=f"user{i:03d}") for i in range(extra)
    )
    with django_assert_num_queries(5):
        client_a.get(url("relay_recipients", "relay-a.example"))
    with django_assert_num_queries(5):
        client_a.get(url("relay_recipients", "relay-a.example"), headers=htmx)


def test_accept_any_is_warned_on_the_domain_page(client_super: Client, relay_a: Domain) -> None:
    assert "backscatter" not in client_super.get(url("detail", "relay-a.example")).content.decode()
    services.domain_update(actor=None, domain=relay_a, relay_accept_any=True)
    for page in ("detail", "relay_recipients"):
        assert "backscatter" in client_super.get(url(page, "relay-a.example")).content.decode()


def test_superadmin_sets_accept_any_on_the_domain_form(
    client_super: Client, client_a: Client, relay_a: Domain
) -> None:
    form = {
        "description": "",
        "delivery": "relay",
        "transport": "smtp:[mx.a.example]:25",
        "relay_accept_any": "on",
        "max_mailboxes": 0,
        "max_aliases": 0,
        "max_mailbox_quota": "0",
        "total_quota": "0",
    }
    # A domain admin's form has only the description: the flag is ignored.
    client_a.post(url("edit", "relay-a.example"), form)
    relay_a.refresh_from_db()
    assert relay_a.relay_accept_any is False
    assert client_super.post(url("edit", "relay-a.example"), form).status_code == 302
    relay_a.refresh_from_db()
    assert relay_a.relay_accept_any is True


# --- CLI ---------------------------------------------------------------------------------


def run(*args: str, stdin: str = "") -> str:
    out = io.StringIO()
    call_command("relayrecipient", *args, stdout=out, stdin=io.StringIO(stdin))
    return out.getvalue()


def test_cli_add_list_delete(relay_a: Domain) -> None:
    assert "Accepting mail for sales@relay-a.example" in run("add", "relay-a.example", "Sales")
    listing = run("list", "relay-a.example")
    assert "info@relay-a.example" in listing and "sales@relay-a.example" in listing
    run("delete", "relay-a.example", "sales")
    assert snapshot() == [("relay-a.example", "info")]
    with pytest.raises(CommandError, match="no such relay recipient"):
        run("delete", "relay-a.example", "nobody")
    with pytest.raises(CommandError, match="local part"):
        run("add", "relay-a.example", "a*b")
    with pytest.raises(CommandError, match="hosted"):
        run("add", "a.example", "x")


def test_cli_replace_and_accept_any(relay_a: Domain) -> None:
    assert "2 recipients added, 1 removed" in run(
        "replace", "relay-a.example", stdin="alpha\nBeta\n\n"
    )
    assert snapshot() == [("relay-a.example", "alpha"), ("relay-a.example", "beta")]
    with pytest.raises(CommandError, match="refuse all mail"):
        run("replace", "relay-a.example", stdin="")
    run("accept-any", "relay-a.example", "yes")
    relay_a.refresh_from_db()
    assert relay_a.relay_accept_any is True
    assert "accepts every recipient" in run("list", "relay-a.example")


def test_upgrade_keeps_existing_relay_domains_accepting_every_recipient() -> None:
    """Migration 0009: relay and backup domains made before the lists keep their mail flowing."""
    migration = importlib.import_module("domains.migrations.0009_relay_recipients")
    factories.domain("hosted.example")
    factories.domain("relay.example", delivery="relay", transport="smtp:[mx.example]:25")
    factories.domain("backup.example", delivery="backup")
    with connection.schema_editor() as editor:
        migration.accept_any_for_existing_relays(apps, editor)
    flags = dict(Domain.objects.values_list("name", "relay_accept_any"))
    assert flags == {"hosted.example": False, "relay.example": True, "backup.example": True}
