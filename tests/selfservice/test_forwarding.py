"""Forwarding set by the owner: limits, alias rows, and what the real postmap answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from domains import services as domain_services
from mailboxes import services as mailbox_services
from mailboxes.models import Alias, Mailbox
from selfservice.selectors import aliases_delivering_to, forwarding_of
from selfservice.services import domain_set_owner_forwarding, owner_set_forwarding
from tests import factories
from tests.selfservice.conftest import OWNER, login_owner
from tests.selfservice.stack import ExportedDB, export_test_database


def destinations(mailbox: Mailbox) -> list[str]:
    alias = Alias.objects.filter(domain=mailbox.domain, local_part=mailbox.local_part).first()
    return sorted(alias.destinations.values_list("address", flat=True)) if alias else []


def forwarding_refused(owner: Mailbox, **kwargs: Any) -> str:
    """owner_set_forwarding(mailbox=owner, **kwargs) is refused on its destinations alone and
    leaves the owner's forwarding as it was; returns the message."""
    before = destinations(owner)
    with pytest.raises(ValidationError) as info:
        owner_set_forwarding(mailbox=owner, **kwargs)
    errors = info.value.message_dict
    assert list(errors) == ["destinations"], errors
    assert destinations(owner) == before
    return " ".join(errors["destinations"])


@pytest.mark.django_db
def test_forward_with_a_copy_lists_the_mailbox_itself(owner: Mailbox) -> None:
    state = owner_set_forwarding(
        mailbox=owner, destinations=["Boss@Elsewhere.NET", "boss@elsewhere.net"], keep_copy=True
    )
    assert destinations(owner) == ["boss@elsewhere.net", OWNER]
    assert (state.destinations, state.keep_copy) == (["boss@elsewhere.net"], True)
    entry = AuditEntry.objects.get(action="forwarding")
    assert (entry.actor, entry.actor_label, entry.domain) == (None, OWNER, "example.com")
    assert entry.changes == {"destinations": [[], ["boss@elsewhere.net", OWNER]]}


@pytest.mark.django_db
def test_forward_without_a_copy_then_off(owner: Mailbox) -> None:
    owner_set_forwarding(mailbox=owner, destinations=["a@elsewhere.net"], keep_copy=True)
    owner_set_forwarding(
        mailbox=owner, destinations=["a@elsewhere.net", "b@elsewhere.net"], keep_copy=False
    )
    assert destinations(owner) == ["a@elsewhere.net", "b@elsewhere.net"]
    assert forwarding_of(owner).keep_copy is False
    owner_set_forwarding(mailbox=owner, destinations=[], keep_copy=False)
    assert not Alias.objects.filter(local_part="john").exists()
    assert forwarding_of(owner).destinations == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["john@example.com"], "your own address"),
        (["JOHN@alias.example"], "your own address"),  # the same mailbox via its alias domain
        (["not-an-address"], "“not-an-address” is not an e-mail address"),
        (["a@x.net", "b@x.net", "c@x.net", "d@x.net"], "at most 3 addresses"),
    ],
)
def test_forwarding_refuses(owner: Mailbox, given: list[str], message: str) -> None:
    domain_services.alias_domain_create(actor=None, name="alias.example", target="example.com")
    domain_set_owner_forwarding(
        actor=None, domain=owner.domain, owner_forwarding="any", max_forwards=3
    )
    owner.refresh_from_db()
    assert message in forwarding_refused(owner, destinations=given, keep_copy=True)
    assert destinations(owner) == []


@pytest.mark.django_db
def test_domain_admin_limits_forwarding(owner: Mailbox, admin_user) -> None:
    factories.domain("other.example")
    domain_services.alias_domain_create(actor=None, name="alias.example", target="other.example")
    domain_set_owner_forwarding(
        actor=admin_user, domain=owner.domain, owner_forwarding="local", max_forwards=0
    )
    message = forwarding_refused(owner, destinations=["x@elsewhere.net"], keep_copy=True)
    assert message.endswith("not to elsewhere.net.")
    # Domains of this server, alias domains included, are fine; 0 means no count limit.
    local = [f"u{i}@other.example" for i in range(12)] + ["v@alias.example"]
    owner_set_forwarding(mailbox=owner, destinations=local, keep_copy=False)
    assert len(destinations(owner)) == 13
    domain_set_owner_forwarding(
        actor=admin_user, domain=owner.domain, owner_forwarding="off", max_forwards=0
    )
    message = forwarding_refused(owner, destinations=[], keep_copy=True)
    assert message == "Your mail administrator does not allow forwarding."
    assert len(destinations(owner)) == 13  # existing forwarding stays until changed


@pytest.mark.django_db
def test_forwarding_needs_room_under_the_domains_alias_limit(owner: Mailbox) -> None:
    domain_services.domain_update(actor=None, domain=owner.domain, max_aliases=1)
    factories.alias("sales@example.com", "boss@elsewhere.net")
    with CaptureQueriesContext(connection) as captured:
        message = forwarding_refused(owner, destinations=["a@elsewhere.net"], keep_copy=True)
    assert message.startswith("example.com has reached its limit of 1 alias,")
    assert destinations(owner) == []
    # The trigger-kept counter is read (domains/usage_triggers.py), not a count of the rows.
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "domains_domainusage" in sql and "COUNT(" not in sql.upper()
    # A forwarding that exists already is an alias row already: changing it adds none.
    domain_services.domain_update(actor=None, domain=owner.domain, max_aliases=2)
    owner_set_forwarding(mailbox=owner, destinations=["a@elsewhere.net"], keep_copy=True)
    domain_services.domain_update(actor=None, domain=owner.domain, max_aliases=1)
    owner_set_forwarding(mailbox=owner, destinations=["b@elsewhere.net"], keep_copy=False)
    assert destinations(owner) == ["b@elsewhere.net"]
    owner_set_forwarding(mailbox=owner, destinations=[], keep_copy=True)
    assert destinations(owner) == []


@pytest.mark.django_db
def test_forwarding_back_to_the_owner_is_a_loop(owner: Mailbox) -> None:
    domain_services.alias_domain_create(actor=None, name="alias.example", target="example.com")
    factories.alias("sales@example.com", OWNER, "mary@elsewhere.net")
    for target in ("sales@example.com", "sales@alias.example"):
        message = forwarding_refused(owner, destinations=[target], keep_copy=False)
        assert f"{OWNER} → {target} → " in message
        assert destinations(owner) == []
    # With a copy the owner's address lists itself: Postfix stops there and delivers once.
    owner_set_forwarding(mailbox=owner, destinations=["sales@example.com"], keep_copy=True)
    assert destinations(owner) == [OWNER, "sales@example.com"]


@pytest.mark.django_db
def test_a_loop_message_names_only_what_the_owner_typed(owner: Mailbox) -> None:
    factories.domain("other.example")
    factories.alias("secret@other.example", OWNER)
    factories.alias("list@other.example", "secret@other.example")
    message = forwarding_refused(owner, destinations=["list@other.example"], keep_copy=False)
    assert f"{OWNER} → list@other.example → … → {OWNER}" in message
    assert "secret" not in message


@pytest.mark.django_db
def test_forwarding_page_shows_a_loop(owner_client: Client, owner: Mailbox) -> None:
    factories.alias("sales@example.com", OWNER)
    response = owner_client.post("/me/forwarding/", {"destinations": "sales@example.com"})
    assert response.status_code == 200
    assert "would go round a loop" in response.content.decode()
    assert destinations(owner) == []


@pytest.mark.django_db
def test_domain_admin_of_another_domain_cannot_set_the_limits(owner: Mailbox) -> None:
    stranger = factories.domain_admin("stranger", factories.domain("other.example"))
    from domains.models import Domain

    before = Domain.objects.values("owner_forwarding", "max_forwards").get(pk=owner.domain_id)
    assert before != {"owner_forwarding": "off", "max_forwards": 1}
    with pytest.raises(Domain.DoesNotExist):
        domain_set_owner_forwarding(
            actor=stranger, domain=owner.domain, owner_forwarding="off", max_forwards=1
        )
    after = Domain.objects.values("owner_forwarding", "max_forwards").get(pk=owner.domain_id)
    assert after == before


@pytest.mark.django_db
def test_an_alias_the_admin_switched_off_stays_off(owner: Mailbox) -> None:
    alias = factories.alias(OWNER, "archive@elsewhere.net", OWNER)
    mailbox_services.alias_set_active(actor=None, alias=alias, active=False)
    assert forwarding_of(owner).active is False
    message = forwarding_refused(owner, destinations=["a@elsewhere.net"], keep_copy=True)
    assert message == "Your mail administrator has switched off forwarding for you."


@pytest.mark.django_db
def test_overview_shows_aliases_that_deliver_to_the_owner(owner_client: Client, owner) -> None:
    factories.alias("sales@example.com", OWNER, "mary@elsewhere.net")
    factories.alias("@example.com", OWNER)
    factories.alias("hidden@example.com", OWNER, active=False)
    assert [a.address for a in aliases_delivering_to(owner)] == [
        "@example.com",
        "sales@example.com",
    ]
    html = owner_client.get("/me/").content.decode()
    assert "sales@example.com" in html
    assert "Any other address at example.com" in html
    assert "hidden@example.com" not in html


@pytest.mark.django_db
def test_forwarding_page_round_trip(owner_client: Client, owner: Mailbox) -> None:
    page = owner_client.get("/me/forwarding/")
    assert page.status_code == 200
    response = owner_client.post(
        "/me/forwarding/", {"destinations": "a@elsewhere.net\nb@elsewhere.net", "keep_copy": "on"}
    )
    assert response["Location"] == "/me/forwarding/"
    assert destinations(owner) == ["a@elsewhere.net", "b@elsewhere.net", OWNER]
    again = owner_client.get("/me/forwarding/").content.decode()
    assert "a@elsewhere.net\nb@elsewhere.net</textarea>" in again
    bad = owner_client.post("/me/forwarding/", {"destinations": OWNER})
    assert bad.status_code == 200
    assert "your own address" in bad.content.decode()
    assert destinations(owner) == ["a@elsewhere.net", "b@elsewhere.net", OWNER]


# --- end to end: what Postfix reads through the contract views ------------------------------------


@pytest.fixture(scope="module")
def exported(
    django_db_setup, django_db_blocker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExportedDB]:
    with django_db_blocker.unblock(), export_test_database(tmp_path_factory.mktemp("fw")) as db:
        yield db


def rows(answer: str | None) -> list[str]:
    return sorted(answer.split(",")) if answer else []


@pytest.mark.tools
@pytest.mark.django_db(transaction=True)
def test_postfix_follows_the_owners_forwarding(exported: ExportedDB, tmp_path: Path) -> None:
    factories.domain("example.com")
    factories.mailbox(OWNER, password="Mellow-Harbour-42")
    factories.mailbox("mary@example.com")
    domain_services.alias_domain_create(actor=None, name="alias.example", target="example.com")
    client = Client()
    assert login_owner(client)["Location"] == "/me/"
    # Before: the mailbox answers for itself.
    assert exported.lookup("virtual_alias_maps", OWNER) == OWNER

    client.post(
        "/me/forwarding/",
        {"destinations": "boss@elsewhere.net, mary@example.com", "keep_copy": "on"},
    )
    assert rows(exported.lookup("virtual_alias_maps", OWNER)) == [
        "boss@elsewhere.net",
        OWNER,
        "mary@example.com",
    ]
    # Mail to the alias domain's form rewrites to the mailbox address, which then forwards.
    assert exported.lookup("virtual_alias_maps", "john@alias.example") == OWNER
    # The mailbox still receives its copy, and the catch-all cannot take the address.
    assert exported.lookup("virtual_mailbox_maps", OWNER) == "example.com/john/"

    client.post("/me/forwarding/", {"destinations": "boss@elsewhere.net"})
    assert exported.lookup("virtual_alias_maps", OWNER) == "boss@elsewhere.net"

    client.post("/me/forwarding/", {"destinations": "", "keep_copy": "on"})
    assert exported.lookup("virtual_alias_maps", OWNER) == OWNER
