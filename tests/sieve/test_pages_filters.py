"""The filters page: rules added, changed, moved and deleted through the services (audited, the
script published), the spam switch, every error at once when a rule is refused (and nothing
changed), the list swapped by htmx, and Ukrainian."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from domains.models import Domain
from mailboxes.models import Mailbox
from selfservice.services import domain_set_owner_forwarding
from sieve import services
from sieve.models import FilterRule, SieveScript
from sieve.selectors import filter_rules_of, spam_to_junk_of
from tests.sieve.support import state
from tests.sieve.web import RULE_POST, admin_client, admin_url, owner_client, owner_url, text

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def values(mailbox: Mailbox) -> list[str]:
    return [rule.value for rule in filter_rules_of(mailbox)]


def test_the_owner_adds_a_rule_and_sees_it(alice: Mailbox) -> None:
    client = owner_client(alice)
    assert "No filter rules yet" in text(client.get(owner_url("filters")))
    response = client.post(owner_url("rule_new"), RULE_POST)
    assert (response.status_code, response["Location"]) == (302, "/me/filters/")
    rule = FilterRule.objects.get(mailbox=alice)
    assert (rule.condition, rule.match, rule.value, rule.action, rule.folder) == (
        "subject",
        "contains",
        "Invoice",
        "fileinto",
        "Bills",
    )
    assert 'header :contains "subject" "Invoice"' in SieveScript.objects.get(mailbox=alice).script
    entry = AuditEntry.objects.get(action="create", object_type="filterrule")
    assert (entry.actor, entry.actor_label) == (None, "alice@a.example")
    page = text(client.get(owner_url("filters")))
    assert "The filter rule is added." in page
    assert "subject contains “Invoice”" in page and "file into a folder: Bills" in page


def test_a_refused_rule_shows_every_error_and_changes_nothing(alice: Mailbox) -> None:
    client = owner_client(alice)
    client.post(owner_url("rule_new"), RULE_POST)
    before = state()
    bad = {
        "condition": "header",
        "header_name": "",
        "match": "is",
        "value": " ",
        "action": "fileinto",
        "folder": "",
    }
    response = client.post(owner_url("rule_new"), bad)
    assert response.status_code == 200
    page = text(response)
    for message in (
        "Name the header, for example List-Id.",
        "Give the text to look for.",
        "Name the folder.",
    ):
        assert message in page, message
    # A tampered choice: the form's own message, and the rules' for the rest.
    response = client.post(
        owner_url("rule_new"), {**bad, "condition": "body", "folder": "a..b", "value": "x"}
    )
    page = text(response)
    assert "Select a valid choice. body is not one of the available choices." in page
    assert "they separate folders" in page
    # The same on a rule that exists.
    rule = FilterRule.objects.get(mailbox=alice)
    response = client.post(owner_url("rule_edit", rule.pk), bad)
    assert "Name the folder." in text(response) and "Give the text to look for." in text(response)
    assert state() == before


def test_forwarding_rules_obey_the_domains_policy(alice: Mailbox) -> None:
    domain_set_owner_forwarding(
        actor=None,
        domain=Domain.objects.get(name="a.example"),
        owner_forwarding="off",
        max_forwards=0,
    )
    client = owner_client(alice)
    before = state()
    response = client.post(
        owner_url("rule_new"),
        {**RULE_POST, "action": "forward", "folder": "", "forward_to": "me@elsewhere.net"},
    )
    assert "Your mail administrator does not allow forwarding." in text(response)
    assert state() == before


def test_edit_move_and_delete(alice: Mailbox) -> None:
    client = owner_client(alice)
    for value in ("one", "two", "three"):
        client.post(owner_url("rule_new"), {**RULE_POST, "value": value})
    one, two, three = filter_rules_of(alice)
    page = text(client.get(owner_url("rule_edit", two.pk)))
    assert 'value="two"' in page and "Filter rule 2" in page
    client.post(owner_url("rule_edit", two.pk), {**RULE_POST, "value": "TWO"})  # enabled off
    two.refresh_from_db()
    assert (two.value, two.enabled) == ("TWO", True)
    client.post(
        owner_url("rule_edit", two.pk), {k: v for k, v in RULE_POST.items() if k != "enabled"}
    )
    two.refresh_from_db()
    assert two.enabled is False

    response = client.post(owner_url("rule_move", three.pk), {"direction": "up"})
    assert response["Location"] == "/me/filters/"
    assert values(alice) == ["one", "three", "Invoice"]
    # htmx: the list alone, the message out of band.
    response = client.post(owner_url("rule_move", one.pk), {"direction": "down"}, headers=HTMX)
    body = text(response)
    assert body.startswith('<div id="filter-rules">') and "<html" not in body
    assert 'hx-swap-oob="true"' in body and "The rule is now number 2." in body
    assert values(alice) == ["three", "one", "Invoice"]
    # The first rule cannot go up (a stale page): a message, nothing moved.
    before = state()
    response = client.post(owner_url("rule_move", three.pk), {"direction": "up"}, headers=HTMX)
    assert "Choose a place from 1 to 3." in text(response)
    response = client.post(owner_url("rule_move", three.pk), {"direction": "sideways"})
    assert "Choose to move the rule up or down." in text(client.get(owner_url("filters")))
    assert state() == before

    page = text(client.get(owner_url("rule_delete", one.pk)))
    assert "Delete rule 2?" in page and "subject contains “one”" in page
    assert values(alice) == ["three", "one", "Invoice"]
    assert client.post(owner_url("rule_delete", one.pk))["Location"] == "/me/filters/"
    body = text(client.post(owner_url("rule_delete", three.pk), headers=HTMX))
    assert "The filter rule is deleted." in body and "“three”" not in body
    assert values(alice) == ["Invoice"]
    assert [e.action for e in AuditEntry.objects.filter(object_type="filterrule")].count(
        "delete"
    ) == 2


def test_the_spam_switch(alice: Mailbox) -> None:
    client = owner_client(alice)
    page = text(client.get(owner_url("filters")))
    assert 'name="spam_to_junk" id="id_spam_to_junk" checked' in page  # on by default
    assert client.post(owner_url("spam"), {})["Location"] == "/me/filters/"
    assert spam_to_junk_of(alice) is False
    page = text(client.get(owner_url("filters")))
    assert "Spam-flagged mail is filtered like any other." in page
    assert 'name="spam_to_junk" id="id_spam_to_junk">' in page
    assert "X-Spam-Flag" not in SieveScript.objects.get(mailbox=alice).script
    client.post(owner_url("spam"), {"spam_to_junk": "on"})
    assert spam_to_junk_of(alice) is True
    assert not SieveScript.objects.filter(mailbox=alice).exists()  # the default script


def test_an_admin_edits_a_mailboxs_filters(admin_a, alice: Mailbox) -> None:
    client = admin_client(admin_a)
    response = client.post(admin_url("rule_new", alice), RULE_POST)
    assert response["Location"] == admin_url("filters", alice)
    page = text(client.get(admin_url("filters", alice)))
    rule = FilterRule.objects.get(mailbox=alice)
    assert f'href="{admin_url("rule_edit", alice, rule.pk)}"' in page
    assert "Filters of alice@a.example" in page
    client.post(admin_url("spam", alice), {})
    assert spam_to_junk_of(alice) is False
    entries = AuditEntry.objects.filter(actor=admin_a).values_list("action", "object_type")
    assert sorted(entries) == [("create", "filterrule"), ("update", "sievesettings")]


def test_csrf_is_checked(alice: Mailbox) -> None:
    services.filter_rule_create(
        actor=None,
        mailbox=alice,
        condition="subject",
        match="contains",
        value="x",
        action="discard",
    )
    rule = FilterRule.objects.get()
    client = owner_client(alice, enforce_csrf_checks=True)
    before = state()
    for url, data in (
        (owner_url("rule_new"), RULE_POST),
        (owner_url("rule_edit", rule.pk), RULE_POST),
        (owner_url("rule_move", rule.pk), {"direction": "down"}),
        (owner_url("rule_delete", rule.pk), {}),
        (owner_url("spam"), {}),
    ):
        assert client.post(url, data).status_code == 403, url
        assert client.post(url, data, headers=HTMX).status_code == 403, url
    assert state() == before


def test_the_pages_in_ukrainian(alice: Mailbox) -> None:
    client = owner_client(alice)
    client.cookies["django_language"] = "uk"
    client.post(owner_url("rule_new"), RULE_POST)
    page = text(client.get(owner_url("filters")))
    for words in (
        "Фільтри",
        "Додати правило",
        "тема містить «Invoice»",
        "покласти в теку: Bills",
        "Правило фільтра додано.",
    ):
        assert words in page, words
    refused = text(client.post(owner_url("rule_new"), {**RULE_POST, "folder": ""}))
    assert "Вкажіть назву теки." in refused and "Name the folder" not in refused
    nav = text(client.get("/me/"))
    assert ">Автовідповідь</a>" in nav and ">Фільтри</a>" in nav
    assert "1 правило фільтра." in nav
