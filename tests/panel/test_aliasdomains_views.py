"""Alias-domain pages of one domain, for the three personas."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from domains import services as domain_services
from domains.models import AliasDomain, Domain
from tests import factories

pytestmark = pytest.mark.django_db


def url(name: str, domain: str, *args: object) -> str:
    return reverse(f"mailboxes:{name}", args=[domain, *args])


def snapshot() -> list[tuple]:
    return list(AliasDomain.objects.order_by("pk").values_list("name", "target__name", "active"))


def bulk_alias_domains(domain: Domain, count: int) -> None:
    AliasDomain.objects.bulk_create(
        AliasDomain(name=f"alias{i:03d}.example", target=domain) for i in range(count)
    )


def test_list(client_a: Client) -> None:
    body = client_a.get(url("aliasdomain_list", "a.example")).content.decode()
    assert "alias-a.example" in body and "alias-b.example" not in body


def test_foreign_list_is_404(client_a: Client) -> None:
    assert client_a.get(url("aliasdomain_list", "b.example")).status_code == 404


def test_search_plain_and_htmx(client_super: Client, htmx, domain_a: Domain) -> None:
    bulk_alias_domains(domain_a, 3)
    body = client_super.get(
        url("aliasdomain_list", "a.example"), {"q": "alias001"}
    ).content.decode()
    assert "alias001.example" in body and "alias002.example" not in body
    fragment = client_super.get(
        url("aliasdomain_list", "a.example"), {"q": "alias002"}, headers=htmx
    )
    text = fragment.content.decode()
    assert "<html" not in text and "alias002.example" in text


def test_idn_alias_domain_shown_and_found_in_unicode(client_super: Client) -> None:
    client_super.post(url("aliasdomain_create", "a.example"), {"name": "Bücher-A.example"})
    assert AliasDomain.objects.filter(name="xn--bcher-a-n2a.example").exists()
    body = client_super.get(url("aliasdomain_list", "a.example"), {"q": "bücher"}).content.decode()
    assert "bücher-a.example" in body


@pytest.mark.parametrize("extra", [4, 59])
def test_list_query_count_does_not_grow_with_rows(
    client_a: Client, domain_a: Domain, extra: int, django_assert_num_queries
) -> None:
    bulk_alias_domains(domain_a, extra)
    with django_assert_num_queries(5):
        client_a.get(url("aliasdomain_list", "a.example"))


@pytest.mark.parametrize("extra", [4, 59])
def test_fragment_query_count_does_not_grow_with_rows(
    client_a: Client, domain_a: Domain, extra: int, htmx, django_assert_num_queries
) -> None:
    bulk_alias_domains(domain_a, extra)
    with django_assert_num_queries(5):
        client_a.get(url("aliasdomain_list", "a.example"), headers=htmx)


@pytest.mark.parametrize("name", ["aliasdomain_toggle", "aliasdomain_delete"])
def test_foreign_alias_domain_is_404(client_a: Client, name: str) -> None:
    foreign = AliasDomain.objects.get(name="alias-b.example")
    before = snapshot()
    for domain in ("a.example", "b.example"):
        assert client_a.post(url(name, domain, foreign.pk)).status_code == 404
    assert client_a.get(url("aliasdomain_delete", "a.example", foreign.pk)).status_code == 404
    assert snapshot() == before


def test_create_for_a_foreign_domain_is_404(client_a: Client) -> None:
    before = snapshot()
    assert (
        client_a.post(url("aliasdomain_create", "b.example"), {"name": "x.example"}).status_code
        == 404
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("aliasdomain_list", "post"),
        ("aliasdomain_create", "put"),
        ("aliasdomain_toggle", "get"),
        ("aliasdomain_delete", "put"),
    ],
)
def test_wrong_method_is_405(client_a: Client, name: str, method: str) -> None:
    pk = AliasDomain.objects.get(name="alias-a.example").pk
    args = [] if name in ("aliasdomain_list", "aliasdomain_create") else [pk]
    before = snapshot()
    assert getattr(client_a, method)(url(name, "a.example", *args)).status_code == 405
    assert snapshot() == before


def test_create_plain_and_htmx(client_a: Client, domain_a: Domain, htmx) -> None:
    # A domain admin adds the names a superadmin allowed (test_alias_domain_grants.py).
    for name in ("other-a.example", "third.example"):
        domain_services.alias_domain_grant_create(actor=None, name=name, domain=domain_a)
    response = client_a.post(url("aliasdomain_create", "a.example"), {"name": "Other-A.example"})
    assert response.status_code == 302
    assert AliasDomain.objects.get(name="other-a.example").target.name == "a.example"
    response = client_a.post(
        url("aliasdomain_create", "a.example"), {"name": "third.example"}, headers=htmx
    )
    assert response.status_code == 200 and "aliasdomains-changed" in response["HX-Trigger"]
    assert AliasDomain.objects.filter(name="third.example").exists()


NOT_GRANTED = "is not an alias domain a superadmin has allowed for this domain"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "This field is required."),
        ("not a domain", "A domain name cannot contain spaces."),
        ("a.example", "A domain cannot be an alias of itself."),
        # another admin's domain: never theirs to alias
        ("b.example", f"b.example {NOT_GRANTED}"),
        # already an alias domain (of someone else)
        ("alias-b.example", f"alias-b.example {NOT_GRANTED}"),
        ("localhost", "“localhost” is not a fully qualified domain name (example.com)."),
    ],
)
def test_create_bad_input_changes_nothing(client_a: Client, htmx, name: str, reason: str) -> None:
    before = snapshot()
    for headers in (dict[str, str](), htmx):
        response = client_a.post(
            url("aliasdomain_create", "a.example"), {"name": name}, headers=headers
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert list(errors) == ["name"], errors
        assert any(reason in message for message in errors["name"]), errors
    assert snapshot() == before


def test_relay_domain_cannot_be_a_target(client_super: Client) -> None:
    factories.domain("relayed.example", delivery="relay", transport="smtp:[mx.example.net]:25")
    before = snapshot()
    response = client_super.post(
        url("aliasdomain_create", "relayed.example"), {"name": "r2.example"}
    )
    assert "Only a hosted domain" in response.content.decode()
    assert snapshot() == before


def test_toggle_and_delete(client_a: Client, htmx) -> None:
    item = AliasDomain.objects.get(name="alias-a.example")
    response = client_a.post(url("aliasdomain_toggle", "a.example", item.pk), headers=htmx)
    assert "Enable" in response.content.decode()
    assert not AliasDomain.objects.get(pk=item.pk).active
    assert client_a.post(url("aliasdomain_toggle", "a.example", item.pk)).status_code == 302
    assert AliasDomain.objects.get(pk=item.pk).active
    page = client_a.get(url("aliasdomain_delete", "a.example", item.pk)).content.decode()
    assert "Delete the alias domain alias-a.example?" in page
    assert (
        client_a.post(url("aliasdomain_delete", "a.example", item.pk), headers=htmx).status_code
        == 200
    )
    assert not AliasDomain.objects.filter(pk=item.pk).exists()
