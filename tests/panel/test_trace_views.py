"""The address-trace page: scope per persona, the form, htmx fragment and full page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("mailboxes:trace")


def test_empty_form(client_a: Client) -> None:
    response = client_a.get(URL)
    assert response.status_code == 200
    assert 'name="address"' in response.content.decode()
    assert response.context["result"] is None


def test_catchall_explained(client_a: Client) -> None:
    body = client_a.get(URL, {"address": "nobody@a.example"}).content.decode()
    assert "the catch-all @a.example rewrites it to alice@a.example" in body
    assert "virtual(8) delivers to the Maildir" in body
    assert "virtual_alias_catchall_maps" in body


def test_domain_admin_may_trace_own_alias_domain(client_a: Client) -> None:
    body = client_a.get(URL, {"address": "bob@alias-a.example"}).content.decode()
    assert "bob@alias-a.example is rewritten to bob@a.example" in body
    assert "bob@a.example answers for itself" in body


@pytest.mark.parametrize("address", ["alice@b.example", "x@alias-b.example", "x@unknown.example"])
def test_domain_admin_cannot_trace_other_domains(client_a: Client, address: str) -> None:
    response = client_a.get(URL, {"address": address})
    assert response.status_code == 200
    assert response.context["result"] is None
    body = response.content.decode()
    assert "is not one of your domains" in body
    assert "virtual_alias_maps" not in body and "alice@b.example is" not in body


def test_superadmin_traces_anything(client_super: Client) -> None:
    body = client_super.get(URL, {"address": "someone@unknown.example"}).content.decode()
    assert "554 5.7.1 &lt;someone@unknown.example&gt;: Relay access denied" in body
    body = client_super.get(URL, {"address": "alice@b.example"}).content.decode()
    assert "Maildir" in body


def test_other_domains_on_the_way_stay_hidden(client_a: Client) -> None:
    factories.alias("fwd@a.example", "alice@b.example", "ext@elsewhere.example")
    body = client_a.get(URL, {"address": "fwd@a.example"}).content.decode()
    assert "alice@b.example is in a domain you do not administer" in body
    assert "b.example/alice/" not in body
    assert "sent on by SMTP to the mail exchangers (MX) of elsewhere.example" in body


def test_unknown_user_rejected(client_super: Client) -> None:
    factories.domain("nocatch.example")
    body = client_super.get(URL, {"address": "who@nocatch.example"}).content.decode()
    assert "User unknown in virtual mailbox table" in body


def test_idn_in_unicode(client_super: Client) -> None:
    factories.domain("bücher.example")
    factories.mailbox("jan@bücher.example")
    response = client_super.get(URL, {"address": "Jan@Bücher.example"})
    body = response.content.decode()
    assert "jan@bücher.example" in body
    assert "jan@xn--bcher-kva.example" in body  # the lookup key, as Postfix sees it


@pytest.mark.parametrize("address", ["no-at-sign", "a@b@c", "x@", "@a.example", "x@-bad-.example"])
def test_bad_address_is_an_inline_error(client_a: Client, address: str) -> None:
    response = client_a.get(URL, {"address": address})
    assert response.status_code == 200
    assert response.context["form"].errors.get("address")
    assert response.context["result"] is None


def test_htmx_fragment(client_a: Client, htmx) -> None:
    response = client_a.get(URL, {"address": "alice@a.example"}, headers=htmx)
    body = response.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<section id="trace"')


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method(client_a: Client, method: str) -> None:
    assert getattr(client_a, method)(URL).status_code == 405


def test_anonymous_and_non_admin(client: Client, db) -> None:
    assert client.get(URL).status_code == 302
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user(username="plain", password=factories.PASSWORD)
    client.force_login(nobody)
    assert client.get(URL, {"address": "a@a.example"}).status_code == 404
