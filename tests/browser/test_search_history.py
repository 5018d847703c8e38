"""Back to a live search shows the search it filtered by (the list's search box kept its
query), not the filtered table under an empty box."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_back_after_a_live_search_keeps_the_query(page: Page, transactional_db) -> None:
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    factories.domain("shop.example")
    for local in ("anna", "boris"):
        factories.mailbox(f"{local}@shop.example")
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/mailboxes/")
    search = page.get_by_label("Search mailboxes")
    table = page.locator("#mailbox-table")

    search.fill("bor")
    page.wait_for_url(re.compile(r"\?(.*&)?q=bor$"))
    expect(table).not_to_contain_text("anna@shop.example")
    search.fill("zzz")
    page.wait_for_url(re.compile(r"\?(.*&)?q=zzz$"))
    expect(table).not_to_contain_text("boris@shop.example")

    page.go_back()
    page.wait_for_url(re.compile(r"\?(.*&)?q=bor$"))
    expect(page.get_by_label("Search mailboxes")).to_have_value("bor")
    expect(page.locator("#mailbox-table")).to_contain_text("boris@shop.example")
    expect(page.locator("#mailbox-table")).not_to_contain_text("anna@shop.example")
    # The whole page, once: not a table swapped into the body.
    expect(page.get_by_role("heading", name="Mailboxes of shop.example")).to_have_count(1)
