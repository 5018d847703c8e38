"""Alias pages of one domain (the catch-all among them), for the three personas."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from domains.models import Domain
from mailboxes.models import Alias, AliasDestination

pytestmark = pytest.mark.django_db

MEMBER_URLS = ("alias_edit", "alias_toggle", "alias_delete", "alias_row")


def url(name: str, domain: str, *args: object) -> str:
    return reverse(f"mailboxes:{name}", args=[domain, *args])


def alias(domain: str, local: str) -> Alias:
    return Alias.objects.get(domain__name=domain, local_part=local)


def snapshot() -> list[tuple]:
    aliases = list(
        Alias.objects.order_by("pk").values_list(
            "domain__name", "local_part", "active", "description"
        )
    )
    destinations = list(AliasDestination.objects.order_by("pk").values_list("alias_id", "address"))
    return aliases + destinations


def bulk_aliases(domain: Domain, count: int) -> None:
    made = Alias.objects.bulk_create(
        Alias(domain=domain, local_part=f"list{i:03d}") for i in range(count)
    )
    AliasDestination.objects.bulk_create(
        AliasDestination(alias=item, address=f"member{j}@elsewhere.example")
        for item in made
        for j in range(2)
    )


def test_list_shows_aliases_and_the_catchall(client_a: Client) -> None:
    body = client_a.get(url("alias_list", "a.example")).content.decode()
    assert "sales@a.example" in body
    assert "alice@a.example, bob@a.example" in body
    assert 'id="catchall"' in body and "Turn the catch-all off" in body


def test_foreign_domain_list_is_404(client_a: Client, client_b: Client) -> None:
    assert client_a.get(url("alias_list", "b.example")).status_code == 404
    assert client_b.get(url("alias_list", "a.example")).status_code == 404


def test_search_plain_and_htmx(client_a: Client, htmx) -> None:
    body = client_a.get(url("alias_list", "a.example"), {"q": "sales"}).content.decode()
    assert "sales@a.example" in body
    fragment = client_a.get(url("alias_list", "a.example"), {"q": "nomatch"}, headers=htmx)
    text = fragment.content.decode()
    assert "<html" not in text and "No aliases match." in text


def test_search_finds_destinations(client_a: Client) -> None:
    body = client_a.get(url("alias_list", "a.example"), {"q": "bob@"}).content.decode()
    assert "sales@a.example" in body


@pytest.mark.parametrize("extra", [3, 58])
def test_list_query_count_does_not_grow_with_rows(
    client_a: Client, domain_a: Domain, extra: int, django_assert_num_queries
) -> None:
    bulk_aliases(domain_a, extra)
    # session, user, admin check, domain, page rows, their destinations, the catch-all box
    # (its row and destinations), the domain's totals
    with django_assert_num_queries(9):
        assert client_a.get(url("alias_list", "a.example")).status_code == 200


@pytest.mark.parametrize("extra", [3, 58])
def test_fragment_query_count_does_not_grow_with_rows(
    client_a: Client, domain_a: Domain, extra: int, htmx, django_assert_num_queries
) -> None:
    bulk_aliases(domain_a, extra)
    with django_assert_num_queries(6):
        client_a.get(url("alias_list", "a.example"), headers=htmx)


def test_second_page(client_a: Client, domain_a: Domain) -> None:
    bulk_aliases(domain_a, 60)
    body = client_a.get(url("alias_list", "a.example"), {"page": 2}).content.decode()
    assert "list059@a.example" in body


def test_next_page_by_cursor(client_a: Client, domain_a: Domain, htmx) -> None:
    bulk_aliases(domain_a, 60)
    first = client_a.get(url("alias_list", "a.example")).context["page"]
    cursor = first.next_cursor
    assert first.has_next and cursor == first.object_list[-1].local_part
    second = client_a.get(url("alias_list", "a.example"), {"after": cursor}, headers=htmx)
    body = second.content.decode()
    shown = [a.local_part for a in second.context["page"]]
    assert shown and all(local > cursor for local in shown)
    assert "list059@a.example" in body and "<html" not in body
    assert not {a.local_part for a in first} & set(shown)
    searched = client_a.get(url("alias_list", "a.example"), {"q": "list05", "after": "list054"})
    assert [a.local_part for a in searched.context["page"]] == [f"list05{i}" for i in range(5, 10)]


@pytest.mark.parametrize("extra", [3, 58])
def test_cursor_page_query_count_does_not_grow_with_rows(
    client_a: Client, domain_a: Domain, extra: int, django_assert_num_queries
) -> None:
    bulk_aliases(domain_a, extra)
    # session, user, admin check, domain, page rows, their destinations, the catch-all box,
    # the domain's totals
    with django_assert_num_queries(9):
        assert client_a.get(url("alias_list", "a.example"), {"after": "a"}).status_code == 200


@pytest.mark.parametrize("name", MEMBER_URLS)
def test_foreign_alias_is_404_everywhere(client_a: Client, name: str) -> None:
    before = snapshot()
    for local in ("sales", ""):
        foreign = alias("b.example", local)
        for domain in ("a.example", "b.example"):
            method = (
                client_a.post
                if name in ("alias_toggle", "alias_delete", "alias_edit")
                else client_a.get
            )
            assert method(url(name, domain, foreign.pk)).status_code == 404
            if name in ("alias_edit", "alias_delete"):
                assert client_a.get(url(name, domain, foreign.pk)).status_code == 404
    assert snapshot() == before


def test_create_in_a_foreign_domain_is_404(client_a: Client) -> None:
    before = snapshot()
    response = client_a.post(
        url("alias_create", "b.example"), {"local_part": "x", "destinations": "alice@a.example"}
    )
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("alias_list", "post"),
        ("alias_create", "put"),
        ("alias_toggle", "get"),
        ("alias_edit", "delete"),
        ("alias_delete", "put"),
        ("alias_row", "post"),
    ],
)
def test_wrong_method_is_405(client_a: Client, name: str, method: str) -> None:
    args = [] if name in ("alias_list", "alias_create") else [alias("a.example", "sales").pk]
    before = snapshot()
    assert getattr(client_a, method)(url(name, "a.example", *args)).status_code == 405
    assert snapshot() == before


def test_create_alias_with_external_destination(client_a: Client) -> None:
    response = client_a.post(
        url("alias_create", "a.example"),
        {
            "local_part": "Info",
            "destinations": "alice@a.example, someone@bücher.example\nx@y.example",
        },
    )
    assert response.status_code == 302
    created = alias("a.example", "info")
    assert sorted(created.destinations.values_list("address", flat=True)) == [
        "alice@a.example",
        "someone@xn--bcher-kva.example",
        "x@y.example",
    ]
    # Shown in Unicode.
    assert "someone@bücher.example" in client_a.get(url("alias_list", "a.example")).content.decode()


def test_create_htmx_fragment_and_event(client_a: Client, htmx) -> None:
    response = client_a.post(
        url("alias_create", "a.example"),
        {"local_part": "team", "destinations": "alice@a.example"},
        headers=htmx,
    )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert "aliases-changed" in response["HX-Trigger"]
    assert alias("a.example", "team").active


def test_catchall_create_and_toggle(client_super: Client, htmx) -> None:
    alias("a.example", "").delete()
    body = client_super.get(url("alias_list", "a.example")).content.decode()
    assert "Set up a catch-all" in body
    form = client_super.get(url("alias_create", "a.example"), {"catchall": "1"}).content.decode()
    assert re.search(r"<input[^>]*name=\"catchall\"[^>]*checked", form)
    client_super.post(
        url("alias_create", "a.example"), {"catchall": "on", "destinations": "bob@a.example"}
    )
    catchall = alias("a.example", "")
    assert [d.address for d in catchall.destinations.all()] == ["bob@a.example"]
    response = client_super.post(
        url("alias_toggle", "a.example", catchall.pk), {"from": "catchall"}, headers=htmx
    )
    assert 'id="catchall"' in response.content.decode()
    assert "Turn the catch-all on" in response.content.decode()
    assert not alias("a.example", "").active


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"local_part": "", "destinations": "alice@a.example"}, "local_part"),
        ({"local_part": "bad name", "destinations": "alice@a.example"}, "local_part"),
        ({"local_part": "x", "catchall": "on", "destinations": "alice@a.example"}, "local_part"),
        ({"local_part": "sales", "destinations": "alice@a.example"}, "local_part"),  # exists
        ({"local_part": "x", "destinations": ""}, "destinations"),
        ({"local_part": "x", "destinations": "not-an-address"}, "destinations"),
        ({"local_part": "loop", "destinations": "loop@a.example"}, "destinations"),
        ({"catchall": "on", "destinations": "alice@a.example"}, "local_part"),  # catch-all exists
    ],
)
def test_create_bad_input_changes_nothing(client_a: Client, htmx, data, field: str) -> None:
    before = snapshot()
    for headers in (dict[str, str](), htmx):
        response = client_a.post(url("alias_create", "a.example"), data, headers=headers)
        assert response.status_code == 200
        assert response.context["form"].errors.get(field), response.context["form"].errors
    assert snapshot() == before


def test_alias_limit_is_shown_inline(client_super: Client) -> None:
    Domain.objects.filter(name="a.example").update(max_aliases=2)
    before = snapshot()
    response = client_super.post(
        url("alias_create", "a.example"), {"local_part": "x", "destinations": "alice@a.example"}
    )
    assert "already has its maximum of 2 aliases" in response.content.decode()
    assert snapshot() == before


def test_edit_destinations_inline(client_a: Client, htmx) -> None:
    sales = alias("a.example", "sales")
    row = client_a.get(url("alias_edit", "a.example", sales.pk), headers=htmx).content.decode()
    assert row.lstrip().startswith("<tr") and "alice@a.example" in row
    response = client_a.post(
        url("alias_edit", "a.example", sales.pk), {"destinations": "bob@a.example"}, headers=htmx
    )
    assert f'id="alias-{sales.pk}"' in response.content.decode()
    assert list(sales.destinations.values_list("address", flat=True)) == ["bob@a.example"]


def test_edit_full_page_and_redirect(client_a: Client) -> None:
    sales = alias("a.example", "sales")
    assert "<html" in client_a.get(url("alias_edit", "a.example", sales.pk)).content.decode()
    response = client_a.post(
        url("alias_edit", "a.example", sales.pk), {"destinations": "x@y.example"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("alias_list", "a.example")
    assert list(sales.destinations.values_list("address", flat=True)) == ["x@y.example"]
    page = client_a.get(response["Location"]).content.decode()
    assert "Alias sales@a.example saved." in page


@pytest.mark.parametrize("destinations", ["", "nope", "sales@a.example"])
def test_edit_bad_input_changes_nothing(client_a: Client, htmx, destinations: str) -> None:
    sales = alias("a.example", "sales")
    before = snapshot()
    response = client_a.post(
        url("alias_edit", "a.example", sales.pk), {"destinations": destinations}, headers=htmx
    )
    assert response.status_code == 200
    assert response.context["form"].errors.get("destinations")
    assert snapshot() == before


def test_toggle_and_delete(client_a: Client, htmx) -> None:
    sales = alias("a.example", "sales")
    response = client_a.post(url("alias_toggle", "a.example", sales.pk), headers=htmx)
    assert "Enable" in response.content.decode()
    assert not alias("a.example", "sales").active
    assert client_a.post(url("alias_toggle", "a.example", sales.pk)).status_code == 302
    assert alias("a.example", "sales").active
    assert (
        "Delete the alias sales@a.example?"
        in client_a.get(url("alias_delete", "a.example", sales.pk)).content.decode()
    )
    response = client_a.post(url("alias_delete", "a.example", sales.pk), headers=htmx)
    assert response.status_code == 200
    assert not Alias.objects.filter(pk=sales.pk).exists()


def test_row_fragment(client_a: Client, htmx) -> None:
    sales = alias("a.example", "sales")
    response = client_a.get(url("alias_row", "a.example", sales.pk))
    assert (response.status_code, response["Location"]) == (302, url("alias_list", "a.example"))
    assert (
        f'id="alias-{sales.pk}"'
        in client_a.get(url("alias_row", "a.example", sales.pk), headers=htmx).content.decode()
    )
