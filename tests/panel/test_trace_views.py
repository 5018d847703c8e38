"""The address-trace page: scope per persona, the form, htmx fragment and full page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from domains.models import Domain
from mailadmin.contract import trace
from mailboxes import services as ms
from mailboxes.models import Alias, AliasDestination, Mailbox
from tests import factories
from tests.panel.conftest import mailbox_hash

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
    assert "Dovecot LMTP delivers to the Maildir" in body
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
    # The destinations are the admin's own alias's: shown. What happens to them is not, on
    # this server or elsewhere alike, or the answer would tell which domains live here.
    assert "fwd@a.example is rewritten to alice@b.example, ext@elsewhere.example" in body
    for address in ("alice@b.example", "ext@elsewhere.example"):
        assert f"{address} is outside your domains: what happens to it is not shown" in body
    assert "b.example/alice/" not in body and "mail exchangers" not in body


def result_area(client: Client, htmx, address: str, *echoed: str) -> str:
    """The htmx answer (the whole result area) with the echoed addresses taken out."""
    body = client.get(URL, {"address": address}, headers=htmx).content.decode()
    for text in echoed:
        body = body.replace(text, "ECHOED")
    return body


def test_a_foreign_domain_answers_as_one_that_does_not_exist(
    client_a: Client, htmx, domain_b, alias_domain_b
) -> None:
    """docs/address-trace.md: the same answer, byte for byte, for another admin's domain, an
    alias domain of it and a domain this server does not have."""
    answers = {
        name: result_area(client_a, htmx, f"x@{name}", f"x@{name}", name)
        for name in ("b.example", "alias-b.example", "nowhere.example")
    }
    assert answers["b.example"] == answers["nowhere.example"] == answers["alias-b.example"]
    assert "ECHOED is not one of your domains" in answers["b.example"]


def test_an_alias_into_a_foreign_domain_answers_as_into_one_that_does_not_exist(
    client_a: Client, htmx, domain_b, alias_domain_b
) -> None:
    alias = factories.alias("fwd@a.example", "alice@b.example")
    answers = {}
    for target in ("alice@b.example", "bob@alias-b.example", "bob@nowhere.example"):
        ms.alias_set_destinations(actor=None, alias=alias, destinations=[target])
        answers[target] = result_area(client_a, htmx, "fwd@a.example", target)
    assert len(set(answers.values())) == 1, answers
    assert "ECHOED is outside your domains" in answers["alice@b.example"]


def wide_alias(count: int) -> None:
    """wide@a.example to `count` mailboxes, written in bulk (hashing each would be slow)."""
    domain = Domain.objects.get(name="a.example")
    Mailbox.objects.filter(local_part__startswith="w-").delete()
    Alias.objects.filter(local_part="wide").delete()
    Mailbox.objects.bulk_create(
        Mailbox(
            domain=domain,
            local_part=f"w-{i:03}",
            password=mailbox_hash(),
            path=f"a.example/w-{i:03}/",
        )
        for i in range(count)
    )
    alias = Alias.objects.create(domain=domain, local_part="wide")
    AliasDestination.objects.bulk_create(
        AliasDestination(alias=alias, address=f"w-{i:03}@a.example") for i in range(count)
    )


def test_a_wide_alias_is_traced_for_its_first_addresses(client_super: Client, domain_a) -> None:
    limit = trace.TRACE_LIMIT
    wide_alias(999)
    body = client_super.get(URL, {"address": "wide@a.example"}).content.decode()
    assert f"and {999 - limit} more" in body
    assert "w-000@a.example: Dovecot LMTP delivers" in body
    assert f"w-{limit - 1:03}@a.example: Dovecot LMTP delivers" in body
    assert f"w-{limit:03}@a.example: virtual(8)" not in body
    assert "w-998@a.example" not in body


def test_trace_queries_do_not_grow_with_the_fan_out(
    client_super: Client, domain_a, django_assert_num_queries
) -> None:
    """A 999-destination alias costs what one of TRACE_LIMIT + 1 destinations costs."""
    limit = trace.TRACE_LIMIT
    wide_alias(limit + 1)
    with CaptureQueriesContext(connection) as few:
        client_super.get(URL, {"address": "wide@a.example"})
    wide_alias(999)
    with django_assert_num_queries(len(few)):
        client_super.get(URL, {"address": "wide@a.example"})
    # Session and user; the domain class (virtual_alias_domains, virtual_mailbox_domains) and
    # mailadmin's two notes on the domain; recipient_access and virtual_alias_maps at RCPT TO;
    # then for each address traced its virtual_alias_maps, transport_maps,
    # virtual_mailbox_maps, virtual_uid_maps and virtual_gid_maps; the domain's
    # transport_maps once.
    assert len(few) == 2 + 2 + 2 + 2 + 5 * limit + 1


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
    response = client.get(URL)
    assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next={URL}")
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user(username="plain", password=factories.PASSWORD)
    client.force_login(nobody)
    assert client.get(URL, {"address": "a@a.example"}).status_code == 404
