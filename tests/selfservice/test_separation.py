"""Owners and admins never reach each other's pages.

Every URL of the project is tried with an owner's session (built from the URL map, so admin
pages added later are covered too): each sends the owner to the admin login and changes
nothing. Every owner page is tried with an admin's session: each sends the admin to the owner
login and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from audit.models import AuditEntry
from domains.models import AliasDomain, Domain
from mailboxes.models import Alias, AliasDestination, Mailbox
from selfservice.selectors import forwarding_of
from tests.selfservice.conftest import OWNER, OWNER_PASSWORD

OWNER_PAGES = {"selfservice:home", "selfservice:password", "selfservice:forwarding"}
# The owner's filter and vacation pages: tests/sieve/test_pages_access.py tries each of them
# (their rule pages take a rule's id) with admins' sessions.
SIEVE_OWNER_PAGES = {
    f"sieve:{name}"
    for name in ("vacation", "filters", "spam", "rule_new", "rule_edit", "rule_delete", "rule_move")
}
# Open to anyone; a logout ends whatever session it is given.
PUBLIC = {
    "selfservice:login",
    "selfservice:logout",
    "set_language",
    "accounts:login",
    "accounts:logout",
}
SAMPLE = {"str": "example.com", "int": "1", "slug": "x", "path": "x", "uuid": None}
SAMPLE_BY_NAME = {"address": OWNER, "pk": "1", "domain": "example.com", "name": "example.com"}


def _names(
    patterns: list[URLPattern | URLResolver], namespace: str = ""
) -> Iterator[tuple[str, dict[str, str]]]:
    for item in patterns:
        if isinstance(item, URLResolver):
            inner = f"{namespace}{item.namespace}:" if item.namespace else namespace
            yield from _names(item.url_patterns, inner)
        elif item.name:
            converters = getattr(item.pattern, "converters", {})
            kwargs = {}
            for key, converter in converters.items():
                kind = type(converter).__name__.lower().removesuffix("converter")
                kwargs[key] = SAMPLE_BY_NAME.get(key) or SAMPLE.get(kind) or "x"
            yield f"{namespace}{item.name}", kwargs


def all_urls() -> list[str]:
    urls = []
    for name, kwargs in _names(get_resolver().url_patterns):
        if name in PUBLIC or name in OWNER_PAGES or name in SIEVE_OWNER_PAGES:
            continue
        try:
            urls.append(reverse(name, kwargs=kwargs))
        except NoReverseMatch:
            continue
    return sorted(set(urls))


def test_the_url_walk_finds_the_admin_controls() -> None:
    urls = all_urls()
    assert "/me/admin/policy/" in urls
    assert f"/me/admin/mailboxes/{OWNER}/" in urls


def world() -> list[object]:
    """Every row an admin page could write, to show that none was written."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Domain, Mailbox, Alias, AliasDestination, AliasDomain, AuditEntry)
    ]


@pytest.mark.django_db
def test_an_owner_reaches_no_admin_page(owner_client: Client) -> None:
    """An owner's session is no admin login: every admin page, whatever its method, sends
    the owner to the admin login with the page as `next`, before it looks at anything."""
    before = world()
    urls = all_urls()
    for url in urls:
        login = "/accounts/login/?next=" + quote(url, safe="/")
        for response in (owner_client.get(url), owner_client.post(url, {})):
            assert (response.status_code, response["Location"]) == (302, login), url
    assert world() == before
    # The owner's own session is still there.
    assert owner_client.get("/me/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(OWNER_PAGES))
def test_an_admin_reaches_no_owner_page(
    name: str, admin_client: Client, owner: Mailbox, superadmin
) -> None:
    super_client = Client()
    super_client.force_login(superadmin)
    for client in (admin_client, super_client):
        url = reverse(name)
        assert client.get(url)["Location"] == "/me/login/"
        response = client.post(
            url,
            {
                "current_password": OWNER_PASSWORD,
                "new_password": "Quiet-Meadow-77",
                "new_password_again": "Quiet-Meadow-77",
                "destinations": "elsewhere@example.net",
                "keep_copy": "on",
            },
        )
        assert response["Location"] == "/me/login/"
    owner.refresh_from_db()
    from mailadmin.passwords import verify_password

    assert verify_password(OWNER_PASSWORD, owner.password)
    assert forwarding_of(owner).destinations == []


@pytest.mark.django_db
def test_an_admin_reaches_only_own_domains_controls(admin_client: Client, owner: Mailbox) -> None:
    from tests import factories

    factories.domain("other.example")
    factories.mailbox("eve@other.example")
    assert admin_client.get(f"/me/admin/mailboxes/{OWNER}/").status_code == 200
    assert admin_client.get("/me/admin/domains/example.com/forwarding/").status_code == 200
    before = world()
    assert admin_client.get("/me/admin/mailboxes/eve@other.example/").status_code == 404
    assert admin_client.post("/me/admin/mailboxes/eve@other.example/", {}).status_code == 404
    assert admin_client.get("/me/admin/domains/other.example/forwarding/").status_code == 404
    response = admin_client.post(
        "/me/admin/domains/other.example/forwarding/",
        {"owner_forwarding": "off", "max_forwards": "1"},
    )
    assert response.status_code == 404
    # A valid form for each (an empty access form switches both flags off): nothing written.
    assert world() == before
