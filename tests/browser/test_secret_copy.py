"""A password shown once: fixed-width, and a Copy button that puts it on the clipboard."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_generated_password_is_fixed_width_and_copied(page: Page, transactional_db) -> None:
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    factories.domain("shop.example")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/mailboxes/")
    page.get_by_role("link", name="New mailbox").click()
    page.locator("#mailbox-create").get_by_label("Address").fill("anna")
    page.get_by_role("button", name="Create mailbox").click()
    secret = page.locator("#generated-password")
    expect(secret).to_be_visible()
    font = secret.evaluate("element => getComputedStyle(element).fontFamily")
    assert "mono" in font.lower(), font
    password = secret.inner_text().strip()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == password
