"""Who reaches the filter and vacation pages: the owner their own mailbox's under /me/, a
superadmin every mailbox's, a domain admin their domains' only; anything else is a 404 (or the
login page for someone not logged in on that side) and changes nothing. Wrong methods are 405,
and the two pages run a fixed number of queries whatever the number of rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from mailboxes.models import Mailbox
from sieve import services
from sieve.models import FilterRule
from tests.sieve.support import state
from tests.sieve.web import RULE_POST, admin_client, admin_url, owner_client, owner_url

pytestmark = pytest.mark.django_db

# The services' arguments of RULE_POST's rule.
RULE: dict[str, Any] = {k: v for k, v in RULE_POST.items() if k != "enabled"}
# name, method, whether the URL names a rule
PAGES = [
    ("vacation", "get", False),
    ("filters", "get", False),
    ("rule_new", "get", False),
    ("rule_edit", "get", True),
    ("rule_delete", "get", True),
]
# What each write page gets POSTed; all of them valid, so a 404 is the scope's doing.
WRITES = [
    (
        "vacation",
        False,
        {
            "enabled": "on",
            "subject": "Away",
            "body": "Gone.",
            "days": "7",
            "addresses": ["alice@a.example"],
        },
    ),
    ("spam", False, {}),
    ("rule_new", False, RULE_POST),
    ("rule_edit", True, {**RULE_POST, "value": "Changed"}),
    ("rule_move", True, {"direction": "down"}),
    ("rule_delete", True, {}),
]


def _rule(mailbox: Mailbox) -> FilterRule:
    return services.filter_rule_create(actor=None, mailbox=mailbox, **RULE)


@pytest.fixture
def alices_rule(alice: Mailbox) -> FilterRule:
    return _rule(alice)


# --- the owner's pages ------------------------------------------------------------------------


def test_the_owner_reaches_their_pages(alice: Mailbox, alices_rule: FilterRule) -> None:
    client = owner_client(alice)
    for name, _method, has_rule in PAGES:
        url = owner_url(name, alices_rule.pk) if has_rule else owner_url(name)
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        # The owner's navigation, never the admin's domain tabs.
        assert 'action="/me/logout/"' in page and "Domain pages" not in page, url


def test_the_owner_writes_their_own(alice: Mailbox, alices_rule: FilterRule) -> None:
    client = owner_client(alice)
    for name, has_rule, data in WRITES:
        url = owner_url(name, alices_rule.pk) if has_rule else owner_url(name)
        response = client.post(url, data)
        assert response.status_code == 302, (url, response.content.decode())
    assert not FilterRule.objects.filter(pk=alices_rule.pk).exists()


def test_another_owner_gets_a_404_for_alices_rule(
    alice: Mailbox, bob: Mailbox, alices_rule: FilterRule
) -> None:
    client = owner_client(bob)
    for name, _method, has_rule in PAGES:
        if has_rule:
            assert client.get(owner_url(name, alices_rule.pk)).status_code == 404, name
    before = state()
    for name, has_rule, data in WRITES:
        if has_rule:
            assert client.post(owner_url(name, alices_rule.pk), data).status_code == 404, name
    assert state() == before
    # Bob's own pages show Bob's (none), never Alice's.
    assert "Invoice" not in client.get(owner_url("filters")).content.decode()


def test_owner_pages_send_others_to_the_owner_login(
    alice: Mailbox, alices_rule: FilterRule, superadmin
) -> None:
    for client in (Client(), admin_client(superadmin)):
        for name, _method, has_rule in PAGES:
            url = owner_url(name, alices_rule.pk) if has_rule else owner_url(name)
            response = client.get(url)
            assert (response.status_code, response["Location"]) == (302, "/me/login/"), url
        before = state()
        for name, has_rule, data in WRITES:
            url = owner_url(name, alices_rule.pk) if has_rule else owner_url(name)
            assert client.post(url, data).status_code == 302
        assert state() == before


def test_owner_pages_refuse_wrong_methods(alice: Mailbox, alices_rule: FilterRule) -> None:
    client = owner_client(alice)
    assert client.get(owner_url("spam")).status_code == 405
    assert client.get(owner_url("rule_move", alices_rule.pk)).status_code == 405
    assert client.post(owner_url("filters")).status_code == 405
    assert client.delete(owner_url("vacation")).status_code == 405
    assert client.put(owner_url("rule_edit", alices_rule.pk)).status_code == 405


# --- the admins' pages ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["superadmin", "admin_a"])
def test_admins_of_the_domain_reach_and_write(
    request: pytest.FixtureRequest, who: str, alice: Mailbox, alices_rule: FilterRule
) -> None:
    client = admin_client(request.getfixturevalue(who))
    for name, _method, has_rule in PAGES:
        url = admin_url(name, alice, alices_rule.pk) if has_rule else admin_url(name, alice)
        response = client.get(url)
        assert response.status_code == 200, url
        assert "alice@a.example" in response.content.decode()
    for name, has_rule, data in WRITES:
        url = admin_url(name, alice, alices_rule.pk) if has_rule else admin_url(name, alice)
        response = client.post(url, data)
        assert response.status_code == 302, (url, response.content.decode())
        assert response["Location"].startswith(f"/domains/a.example/mailboxes/{alice.pk}/")
    assert not FilterRule.objects.filter(pk=alices_rule.pk).exists()


def _all_404(client: Client, urls: list[str], posts: list[tuple[str, dict]]) -> None:
    before = state()
    for url in urls:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert state() == before


def _urls(mailbox: Mailbox, rule: FilterRule, *, domain: str | None = None):
    gets = [
        admin_url(name, mailbox, rule.pk, domain=domain)
        if has_rule
        else admin_url(name, mailbox, domain=domain)
        for name, _method, has_rule in PAGES
    ]
    posts = [
        (
            admin_url(name, mailbox, rule.pk, domain=domain)
            if has_rule
            else admin_url(name, mailbox, domain=domain),
            data,
        )
        for name, has_rule, data in WRITES
    ]
    return gets, posts


def test_a_domain_admin_of_another_domain_gets_404s(
    admin_b, alice: Mailbox, alices_rule: FilterRule
) -> None:
    _all_404(admin_client(admin_b), *_urls(alice, alices_rule))


def test_a_domain_admin_gets_404s_for_a_mailbox_of_another_domain(admin_a, carol: Mailbox) -> None:
    carols_rule = _rule(carol)
    client = admin_client(admin_a)
    _all_404(client, *_urls(carol, carols_rule))
    # Nor through their own domain's URL: the mailbox must be of the URL's domain.
    _all_404(client, *_urls(carol, carols_rule, domain="a.example"))


def test_a_mailbox_under_another_domains_url_is_a_404_even_for_a_superadmin(
    superadmin, alice: Mailbox, alices_rule: FilterRule
) -> None:
    _all_404(admin_client(superadmin), *_urls(alice, alices_rule, domain="b.example"))


def test_a_rule_of_another_mailbox_is_a_404(
    admin_a, alice: Mailbox, bob: Mailbox, alices_rule: FilterRule
) -> None:
    client = admin_client(admin_a)
    gets, posts = _urls(bob, alices_rule)
    _all_404(
        client,
        [u for u in gets if f"/{alices_rule.pk}/" in u],
        [(u, d) for u, d in posts if f"/filters/{alices_rule.pk}/" in u],
    )


def test_admin_pages_send_others_to_the_admin_login(
    alice: Mailbox, alices_rule: FilterRule
) -> None:
    gets, posts = _urls(alice, alices_rule)
    before = state()
    for client in (Client(), owner_client(alice)):
        for url in gets:
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"] == "/accounts/login/?next=" + quote(url, safe="/")
        for url, data in posts:
            assert client.post(url, data).status_code == 302
    assert state() == before


def test_admin_pages_refuse_wrong_methods(
    superadmin, alice: Mailbox, alices_rule: FilterRule
) -> None:
    client = admin_client(superadmin)
    assert client.get(admin_url("spam", alice)).status_code == 405
    assert client.get(admin_url("rule_move", alice, alices_rule.pk)).status_code == 405
    assert client.post(admin_url("filters", alice)).status_code == 405
    assert client.delete(admin_url("vacation", alice)).status_code == 405


def test_the_mailbox_edit_page_links_to_its_filters_and_reply(admin_a, alice: Mailbox) -> None:
    client = admin_client(admin_a)
    edit = f"/domains/a.example/mailboxes/{alice.pk}/edit/"
    for headers in ({}, {"HX-Request": "true"}):
        page = client.get(edit, headers=headers).content.decode()
        assert f'href="{admin_url("filters", alice)}"' in page
        assert f'href="{admin_url("vacation", alice)}"' in page


# --- query counts ----------------------------------------------------------------------------


def _many_rules(mailbox: Mailbox, n: int) -> None:
    for i in range(n):
        services.filter_rule_create(actor=None, mailbox=mailbox, **{**RULE, "value": f"v{i}"})


@pytest.mark.parametrize("rules", [1, 6])
def test_owner_pages_run_a_fixed_number_of_queries(
    alice: Mailbox, rules: int, django_assert_num_queries
) -> None:
    _many_rules(alice, rules)
    services.vacation_set(actor=None, mailbox=alice, subject="Away", body="Gone.")
    client = owner_client(alice)
    # session, the owner's mailbox; the reply; the addresses: the mailbox's alias domains,
    # the aliases that deliver to it, and the alias domains of each of those aliases' domains
    # (one here: sales@, the catch-all has no address of its own).
    with django_assert_num_queries(6):
        assert client.get(owner_url("vacation")).status_code == 200
    # session, the owner's mailbox; the rules; the spam setting.
    with django_assert_num_queries(4):
        assert client.get(owner_url("filters")).status_code == 200


@pytest.mark.parametrize("rules", [1, 6])
def test_admin_pages_run_a_fixed_number_of_queries(
    superadmin, admin_a, alice: Mailbox, rules: int, django_assert_num_queries
) -> None:
    _many_rules(alice, rules)
    services.vacation_set(actor=None, mailbox=alice, subject="Away", body="Gone.")
    # session, user, the domain, the mailbox; then as for the owner. A domain admin costs one
    # more: is_panel_admin's look at their grants.
    for client, extra in ((admin_client(superadmin), 0), (admin_client(admin_a), 1)):
        with django_assert_num_queries(8 + extra):
            assert client.get(admin_url("vacation", alice)).status_code == 200
        with django_assert_num_queries(6 + extra):
            assert client.get(admin_url("filters", alice)).status_code == 200


def test_the_addresses_a_reply_answers_for_cost_one_query_for_any_number_of_aliases(
    django_assert_num_queries: Any,
) -> None:
    from domains.services import alias_domain_create
    from mailboxes.services import alias_create
    from sieve.selectors import answerable_addresses
    from tests import factories

    factories.domain("many.example")
    box = factories.mailbox("boss@many.example")
    alias_domain_create(actor=None, name="many-alias.example", target="many.example")
    for number in range(5):
        alias_create(
            actor=None, address=f"a{number}@many.example", destinations=["boss@many.example"]
        )
    box = Mailbox.objects.select_related("domain").get(pk=box.pk)
    # The mailbox's own alias-domain forms, the aliases, their alias-domain forms.
    with django_assert_num_queries(3):
        addresses = answerable_addresses(box)
    assert "a4@many-alias.example" in addresses and len(addresses) == 12
