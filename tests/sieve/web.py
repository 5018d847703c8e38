"""What the page tests of the filters and the vacation reply share: logged-in clients of the
three personas, and the URLs of a mailbox's pages on either side."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse

from mailboxes.models import Mailbox
from tests import factories

RULE_POST = {
    "condition": "subject",
    "match": "contains",
    "value": "Invoice",
    "action": "fileinto",
    "folder": "Bills",
    "enabled": "on",
}


def owner_client(mailbox: Mailbox, *, enforce_csrf_checks: bool = False) -> Client:
    """A client logged in at /me/login/ as the mailbox's owner (the mailbox's password is
    factories.PASSWORD: tests.sieve.conftest)."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    data = {"address": mailbox.address, "password": factories.PASSWORD}
    if enforce_csrf_checks:
        client.get("/me/login/")
        data["csrfmiddlewaretoken"] = csrf_token(client)
    response = client.post("/me/login/", data)
    assert response.status_code == 302, response.content.decode()
    return client


def csrf_token(client: Client) -> str:
    """The CSRF secret of the client's cookie, which Django takes as a token too."""
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def owner_url(name: str, *args: int) -> str:
    return reverse(f"sieve:{name}", args=list(args))


def admin_url(name: str, mailbox: Mailbox, *args: int, domain: str | None = None) -> str:
    """The admin page `name` of `mailbox`, under its own domain unless told otherwise."""
    return reverse(f"sieve:admin_{name}", args=[domain or mailbox.domain.name, mailbox.pk, *args])


def text(response) -> str:
    return response.content.decode()
