"""The top bar's search across domains (mailboxes/search_all.py): every kind, scoped to what
the admin may see, an address typed with "@", too short a term, and its queries pinned."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mailboxes.search_all import search_all
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/search/"
POPUP_URL = "/search/popup/"
HTMX = {"HX-Request": "true"}


def found(results) -> dict[str, list[str]]:
    return {
        "domains": [d.name for d in results.domains.rows],
        "alias_domains": [a.name for a in results.alias_domains.rows],
        "mailboxes": [m.address for m in results.mailboxes.rows],
        "aliases": [a.address for a in results.aliases.rows],
    }


def test_a_superadmin_finds_every_kind_in_every_domain(superadmin, domain_a, domain_b) -> None:
    assert found(search_all(user=superadmin, term="ALIC")) == {
        "domains": [],
        "alias_domains": [],
        "mailboxes": ["alice@a.example", "alice@b.example"],
        "aliases": [],
    }
    assert found(search_all(user=superadmin, term="sale"))["aliases"] == [
        "sales@a.example",
        "sales@b.example",
    ]
    assert found(search_all(user=superadmin, term="b.exa")) == {
        "domains": ["b.example"],
        "alias_domains": ["alias-b.example"],
        "mailboxes": [],
        "aliases": [],
    }


def test_a_domain_admin_finds_only_their_domains(admin_a, domain_b) -> None:
    results = found(search_all(user=admin_a, term="example"))
    assert results["domains"] == ["a.example"]
    assert results["alias_domains"] == ["alias-a.example"]
    assert found(search_all(user=admin_a, term="alice"))["mailboxes"] == ["alice@a.example"]
    assert found(search_all(user=admin_a, term="bob@b.example"))["mailboxes"] == []


def test_an_address_matches_its_local_part_and_the_start_of_its_domain(
    superadmin, domain_a, domain_b
) -> None:
    assert found(search_all(user=superadmin, term="bob@b.ex"))["mailboxes"] == ["bob@b.example"]
    assert found(search_all(user=superadmin, term="bob@"))["mailboxes"] == [
        "bob@a.example",
        "bob@b.example",
    ]
    by_domain = found(search_all(user=superadmin, term="@a.example"))
    assert by_domain["mailboxes"] == ["alice@a.example", "bob@a.example"]
    assert by_domain["aliases"] == ["@a.example", "sales@a.example"]
    assert by_domain["domains"] == ["a.example"]


def test_idn_names_match_in_both_spellings(superadmin) -> None:
    factories.domain("bücher.example")
    factories.mailbox("anna@bücher.example")
    assert found(search_all(user=superadmin, term="Bücher"))["domains"] == ["xn--bcher-kva.example"]
    assert found(search_all(user=superadmin, term="anna@bücher"))["mailboxes"] == [
        "anna@xn--bcher-kva.example"
    ]


def test_a_term_shorter_than_three_characters_reads_nothing(superadmin, domain_a) -> None:
    with CaptureQueriesContext(connection) as queries:
        results = search_all(user=superadmin, term="al")
    assert results.too_short and results.empty
    assert len(queries) == 0


def test_more_than_the_limit_says_so(superadmin) -> None:
    factories.domain("many.example")
    for n in range(7):
        factories.mailbox(f"user{n}@many.example")
    results = search_all(user=superadmin, term="user", limit=5)
    assert [m.local_part for m in results.mailboxes.rows] == [f"user{n}" for n in range(5)]
    assert results.mailboxes.more


def test_the_popup_and_the_page(client_super: Client) -> None:
    popup = client_super.get(POPUP_URL, {"q": "alice"}, headers=HTMX).content.decode()
    assert "<h1>" not in popup and "alice@a.example" in popup
    assert 'href="/search/?q=alice"' in popup  # "All results"
    page = client_super.get(URL, {"q": "alice"}).content.decode()
    assert "<h1>Search</h1>" in page and "alice@b.example" in page
    assert 'href="/domains/a.example/mailboxes/' in page
    short = client_super.get(POPUP_URL, {"q": "al"}, headers=HTMX).content.decode()
    assert "Type at least 3 characters." in short


def test_the_search_costs_five_queries_whatever_matches(client_super: Client) -> None:
    # session + user, then domains, alias domains, mailboxes, aliases and their destinations.
    with CaptureQueriesContext(connection) as queries:
        response = client_super.get(POPUP_URL, {"q": "sales"}, headers=HTMX)
    assert response.status_code == 200
    searched = [q["sql"] for q in queries.captured_queries if "django_session" not in q["sql"]]
    assert len(searched) == 6, searched


def test_mailbox_owners_and_strangers_get_nothing(client: Client, domain_a) -> None:
    assert client.get(URL, {"q": "alice"}).status_code == 302
    assert client.get(POPUP_URL, {"q": "alice"}).status_code == 302
