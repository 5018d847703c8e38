"""Disabling a whole domain is asked first, in Chromium with and without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Dialog, Page, expect

from domains.models import Domain
from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def root(transactional_db):
    factories.domain("shop.example")
    factories.mailbox("anna@shop.example")
    return get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)


def _active() -> bool:
    return Domain.objects.get(name="shop.example").active


def test_the_domain_list_asks_before_disabling(page: Page, root) -> None:
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/")
    row = page.locator("tr", has_text="shop.example")
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    row.get_by_role("button", name="Disable").click()
    expect(row.get_by_role("button", name="Disable")).to_be_visible()
    assert asked and "Mail to every address of it is refused" in asked[0]
    assert _active()

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Disable").click()
    expect(
        page.locator("tr", has_text="shop.example").get_by_role("button", name="Enable")
    ).to_be_visible()
    assert not _active()


@pytest.fixture
def no_js_page(browser: Browser, live_server) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_without_javascript_a_page_asks(no_js_page: Page, root) -> None:
    page = no_js_page
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/domains/shop.example/")
    page.get_by_role("button", name="Disable").click()
    page.wait_for_url(re.compile(r"/domains/shop\.example/disable/"))
    expect(page.get_by_role("heading", name="Disable shop.example?")).to_be_visible()
    expect(page.locator("#impact-mailboxes")).to_have_text("1 mailbox")
    assert _active()
    page.get_by_role("button", name="Disable shop.example").click()
    page.wait_for_url(re.compile(r"/domains/shop\.example/$"))
    expect(page.get_by_role("button", name="Enable")).to_be_visible()
    assert not _active()
