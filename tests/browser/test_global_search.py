"""The top bar's search in Chromium: results drop down as the admin types, a click opens the
mailbox, Enter opens the search page; a domain admin sees only their own domains."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import login_admin, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_search_as_you_type_from_the_top_bar(page: Page, transactional_db) -> None:
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    for name in ("shop.example", "club.example"):
        factories.domain(name)
        factories.mailbox(f"kovalenko@{name}", name="Olena Kovalenko")
    factories.alias("kova-team@club.example", "kovalenko@club.example")
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/")
    box = page.get_by_role("searchbox", name="Search all domains")
    box.press_sequentially("kova", delay=30)
    popup = page.locator("#search-popup")
    expect(popup.get_by_role("link", name="kovalenko@shop.example")).to_be_visible()
    expect(popup.get_by_role("link", name="kova-team@club.example")).to_be_visible()
    screenshot(page, "global-search-popup", full_page=False)
    popup.get_by_role("link", name="kovalenko@shop.example").click()
    pk = _mailbox_pk("kovalenko", "shop.example")
    expect(page).to_have_url(re.compile(f"/domains/shop.example/mailboxes/{pk}/edit/$"))

    page.get_by_role("searchbox", name="Search all domains").fill("olena")
    page.get_by_role("searchbox", name="Search all domains").press("Enter")
    expect(page.get_by_role("heading", name="Search", level=1)).to_be_visible()
    expect(page.locator("#search-page")).to_contain_text("kovalenko@club.example")


def test_a_domain_admin_searches_their_domains_only(page: Page, transactional_db) -> None:
    shop = factories.domain("shop.example")
    factories.domain("club.example")
    factories.mailbox("kovalenko@shop.example")
    factories.mailbox("kovalenko@club.example")
    clerk = factories.domain_admin("clerk", shop)
    login_admin(page, clerk, factories.PASSWORD)
    page.get_by_role("searchbox", name="Search all domains").press_sequentially("kovalenko")
    popup = page.locator("#search-popup")
    expect(popup.get_by_role("link", name="kovalenko@shop.example")).to_be_visible()
    expect(popup).not_to_contain_text("club.example")


def _mailbox_pk(local_part: str, domain: str) -> int:
    from mailboxes.models import Mailbox

    return Mailbox.objects.get(local_part=local_part, domain__name=domain).pk


def test_escape_and_a_click_outside_close_the_results(page: Page, transactional_db) -> None:
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    factories.domain("shop.example")
    factories.mailbox("kovalenko@shop.example")
    login_admin(page, root, factories.PASSWORD)
    box = page.get_by_role("searchbox", name="Search all domains")
    popup = page.locator("#search-popup")
    box.press_sequentially("kovalenko")
    expect(popup.get_by_role("link", name="kovalenko@shop.example")).to_be_visible()
    box.press("Escape")
    expect(popup).to_be_hidden()
    box.press_sequentially("kova")  # typing again opens them (Escape emptied the box)
    expect(popup.get_by_role("link", name="kovalenko@shop.example")).to_be_visible()
    page.locator("main").click(position={"x": 5, "y": 5})
    expect(popup).to_be_hidden()
