"""Every domain page with the three personas: works, 404 for a foreign domain, wrong method
refused, htmx partial versus the whole page."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from audit.models import AuditEntry
from domains.models import AliasDomain, Domain, ServerSettings
from mailboxes.models import Alias, Mailbox

pytestmark = pytest.mark.django_db

# (url pattern, methods allowed, who may use it)
PAGES = [
    ("/", {"GET"}, "any"),
    ("/domains/", {"GET"}, "any"),
    ("/domains/{d}/", {"GET"}, "any"),
    ("/domains/{d}/edit/", {"GET", "POST"}, "any"),
    ("/domains/new/", {"GET", "POST"}, "super"),
    ("/domains/{d}/delete/", {"GET", "POST"}, "super"),
    ("/domains/{d}/toggle/", {"POST"}, "super"),
    ("/domains/{d}/disable/", {"GET"}, "super"),
    ("/config/", {"GET", "POST"}, "super"),
    ("/config/download/", {"POST"}, "super"),
]
GET_PAGES = [(url, who) for url, methods, who in PAGES if "GET" in methods]


def is_full_page(response) -> bool:
    return b"<html" in response.content


def world() -> list[object]:
    """The rows a domain page could write, to show that a refused request wrote none."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Domain, Mailbox, Alias, AliasDomain, ServerSettings, AuditEntry)
    ]


@pytest.mark.parametrize(("url", "who"), GET_PAGES)
def test_superadmin_gets_every_page_whole_and_as_partial(client_super, htmx, url, who):
    full = client_super.get(url.format(d="a.example"))
    assert full.status_code == 200
    assert is_full_page(full)
    partial = client_super.get(url.format(d="a.example"), headers=htmx)
    assert partial.status_code == 200
    assert not is_full_page(partial)
    assert partial.content.strip()


@pytest.mark.parametrize(("url", "who"), [(u, w) for u, w in GET_PAGES if w == "any"])
def test_domain_admin_gets_own_domain_pages(client_a, htmx, url, who):
    full = client_a.get(url.format(d="a.example"))
    assert full.status_code == 200
    assert is_full_page(full)
    assert b"b.example" not in full.content
    partial = client_a.get(url.format(d="a.example"), headers=htmx)
    assert partial.status_code == 200
    assert not is_full_page(partial)


@pytest.mark.parametrize(("url", "methods", "who"), [p for p in PAGES if "{d}" in p[0]])
def test_foreign_domain_is_404_on_every_url(client_a, client_b, client_super, url, methods, who):
    before = world()
    for method in (m.lower() for m in methods):
        assert getattr(client_a, method)(url.format(d="b.example")).status_code == 404
        assert getattr(client_b, method)(url.format(d="a.example")).status_code == 404
        # A domain that does not exist looks the same as a foreign one.
        assert getattr(client_a, method)(url.format(d="nowhere.example")).status_code == 404
        assert getattr(client_super, method)(url.format(d="nowhere.example")).status_code == 404
    assert world() == before


@pytest.mark.parametrize(("url", "methods", "who"), [p for p in PAGES if p[2] == "super"])
def test_superadmin_pages_are_404_for_domain_admins_even_on_their_own_domain(
    client_a, url, methods, who
):
    before = world()
    for method in methods:
        response = getattr(client_a, method.lower())(url.format(d="a.example"))
        assert response.status_code == 404
    assert world() == before


@pytest.mark.parametrize(("url", "methods", "who"), PAGES)
def test_wrong_method_is_refused(client_super, url, methods, who):
    for method in {"GET", "POST", "PUT", "DELETE"} - methods:
        response = getattr(client_super, method.lower())(url.format(d="a.example"))
        assert response.status_code == 405, (url, method)


@pytest.mark.parametrize(("url", "methods", "who"), PAGES)
def test_anonymous_is_sent_to_login(client, url, methods, who):
    page = url.format(d="a.example")
    for method in sorted({"get"} | {m.lower() for m in methods}):
        response = getattr(client, method)(page)
        assert response.status_code == 302, method
        assert response["Location"] == "/accounts/login/?next=" + quote(page, safe="/")


def test_mailbox_owner_style_user_without_domains_gets_404(db, domain_a):
    from django.contrib.auth import get_user_model
    from django.test import Client

    nobody = get_user_model().objects.create_user(username="nobody", password="x" * 12)
    client = Client()
    client.force_login(nobody)
    assert client.get("/").status_code == 404
    assert client.get("/domains/a.example/").status_code == 404


def test_domain_pages_show_unicode_names(client_super):
    from tests import factories

    factories.domain("bücher.example")
    listing = client_super.get("/domains/?q=bücher")
    assert "bücher.example" in listing.content.decode()
    detail = client_super.get("/domains/xn--bcher-kva.example/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "bücher.example" in page
    assert "xn--bcher-kva.example" in page
