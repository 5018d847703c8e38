"""htmx requests that the guards send to a login page load it in the whole window
(mailadmin/htmx_redirects.py; tests/browser/test_session_end.py shows it in Chromium)."""

from __future__ import annotations

import pytest
from django.http import HttpResponseRedirect
from django.test import Client, RequestFactory

from mailadmin.htmx_redirects import login_redirect_for_window
from mailboxes.models import Mailbox
from tests import factories

pytestmark = pytest.mark.django_db


def htmx(current_url: str) -> dict[str, str]:
    """The headers htmx sends from a page at `current_url`."""
    return {"HX-Request": "true", "HX-Current-URL": current_url}


@pytest.fixture
def mailbox() -> Mailbox:
    factories.domain("shop.example")
    return factories.mailbox("anna@shop.example")


def test_an_htmx_action_without_a_session_redirects_the_window(mailbox: Mailbox) -> None:
    page = "http://testserver/domains/shop.example/mailboxes/?q=an"
    response = Client().post(
        f"/domains/shop.example/mailboxes/{mailbox.pk}/toggle/",
        headers=htmx(page),
    )
    assert response.status_code == 200
    assert response.content == b""
    assert (
        response["HX-Redirect"]
        == "/accounts/login/?next=%2Fdomains%2Fshop.example%2Fmailboxes%2F%3Fq%3Dan"
    )
    assert Mailbox.objects.get(pk=mailbox.pk).active


def test_a_plain_request_still_gets_the_redirect() -> None:
    response = Client().get("/domains/shop.example/mailboxes/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "HX-Redirect" not in response


def test_an_owner_page_goes_to_the_owner_login() -> None:
    response = Client().get("/me/filters/", headers=htmx("http://testserver/me/"))
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/me/login/"


@pytest.mark.parametrize("current", ["", "http://testserver//evil.example/", "javascript:alert(1)"])
def test_next_is_a_path_of_this_site_or_nothing(current: str) -> None:
    response = Client().get("/domains/shop.example/mailboxes/new/", headers=htmx(current))
    assert response["HX-Redirect"] == "/accounts/login/"


@pytest.mark.parametrize("location", ["/domains/", "/accounts/login-help/", "/me/"])
def test_a_redirect_elsewhere_is_left_alone(rf: RequestFactory, location: str) -> None:
    request = rf.get("/", headers=htmx("http://testserver/domains/"))
    response = HttpResponseRedirect(location)
    assert login_redirect_for_window(request, response) is response
