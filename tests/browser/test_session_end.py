"""An htmx action after the session ended takes the whole window to the login page.

htmx follows a redirect inside its own request and swaps whatever comes back into its target:
after a logout in another tab, "Disable" replaced the row with the login page's body (the row
vanished; nothing was done) and "New mailbox" put a bare login form inside the page.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from mailboxes.models import Mailbox
from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)

DOMAIN = "shop.example"
LIST = f"/domains/{DOMAIN}/mailboxes/"


@pytest.fixture
def superadmin(transactional_db):
    factories.domain(DOMAIN)
    return get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)


def _log_out_in_another_tab(page: Page) -> None:
    other = page.context.new_page()
    other.goto("/")
    other.get_by_role("button", name="Log out").click()
    other.wait_for_url(re.compile(r"/accounts/login/"))
    other.close()


def _on_the_login_page_for(page: Page, path: str) -> None:
    page.wait_for_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="Log in to mailadmin")).to_be_visible()
    # The whole window is the login page, once: not a login form inside the panel's frame.
    expect(page.get_by_label("Username")).to_have_count(1)
    assert parse_qs(urlsplit(page.url).query)["next"] == [path]


def test_disable_after_logout_goes_to_the_login_page(page: Page, superadmin) -> None:
    mailbox = factories.mailbox(f"anna@{DOMAIN}")
    login_admin(page, superadmin, factories.PASSWORD)
    page.goto(LIST)
    _log_out_in_another_tab(page)

    page.locator(f"#mailbox-{mailbox.pk}").get_by_role("button", name="Disable").click()
    _on_the_login_page_for(page, LIST)
    assert Mailbox.objects.get(pk=mailbox.pk).active

    # Logging in again returns to the list, where the row is as it was.
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(LIST) + "$"))
    expect(
        page.locator(f"#mailbox-{mailbox.pk}").get_by_role("button", name="Disable")
    ).to_be_visible()


def test_new_mailbox_after_logout_goes_to_the_login_page(page: Page, superadmin) -> None:
    login_admin(page, superadmin, factories.PASSWORD)
    page.goto(LIST)
    _log_out_in_another_tab(page)

    page.get_by_role("link", name="New mailbox").click()
    _on_the_login_page_for(page, LIST)
    expect(page.locator("#mailbox-create")).to_have_count(0)


def test_an_htmx_request_the_server_refuses_says_so(page: Page, superadmin) -> None:
    """A refusal (here the CSRF check, after a login in another tab rotated the token) used to
    leave the page as it was without a word."""
    mailbox = factories.mailbox(f"anna@{DOMAIN}")
    login_admin(page, superadmin, factories.PASSWORD)
    page.goto(LIST)
    _log_out_in_another_tab(page)
    other = page.context.new_page()
    login_admin(other, superadmin, factories.PASSWORD)
    other.close()

    page.locator(f"#mailbox-{mailbox.pk}").get_by_role("button", name="Disable").click()
    alert = page.locator("#htmx-error[role=alert]")
    expect(alert).to_contain_text("The server refused this action")
    expect(alert).to_contain_text("Reload the page")
    expect(page.locator(f"#mailbox-{mailbox.pk}")).to_be_visible()
    assert Mailbox.objects.get(pk=mailbox.pk).active
