"""The main panel flows in real Chromium, with a screenshot of each main page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from domains.models import Domain
from tests import factories
from tests.browser.conftest import login_admin, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = factories.PASSWORD


def nav(page: Page, name: str):
    """A link of the main navigation bar."""
    return page.get_by_role("banner").get_by_role("link", name=name, exact=True)


@pytest.fixture
def superadmin(transactional_db):
    return get_user_model().objects.create_superuser(username="root", password=PASSWORD)


def test_superadmin_creates_a_domain_and_its_admin(page: Page, superadmin):
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Log in to mailadmin")).to_be_visible()
    screenshot(page, "login")
    login_admin(page, superadmin, PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # A domain, with a bad input first: the form says what is wrong and nothing is created.
    nav(page, "Domains").click()
    page.get_by_role("link", name="New domain").click()
    page.get_by_label("Domain name").fill("shop.example")
    page.get_by_label("Max mailboxes").fill("10")
    page.get_by_label("Max quota per mailbox").fill("lots")
    page.get_by_role("button", name="Create domain").click()
    expect(page.get_by_text("is not a size")).to_be_visible()
    assert not Domain.objects.filter(name="shop.example").exists()
    page.get_by_label("Max quota per mailbox").fill("2G")
    page.get_by_role("button", name="Create domain").click()
    page.wait_for_url(re.compile(r"/domains/shop\.example/$"))
    expect(page.get_by_role("heading", name="shop.example")).to_be_visible()
    expect(page.get_by_text("The domain shop.example was created.")).to_be_visible()
    assert Domain.objects.get(name="shop.example").max_mailbox_quota == 2 * 1024**3
    screenshot(page, "domain-detail")

    # An IDN domain is shown in Unicode in the list; search as you type narrows it.
    factories.domain("bücher.example")
    nav(page, "Domains").click()
    expect(page.get_by_role("link", name="bücher.example")).to_be_visible()
    page.get_by_label("Search domains").fill("shop")
    expect(page.get_by_role("link", name="bücher.example")).to_have_count(0)
    expect(page.get_by_role("link", name="shop.example")).to_be_visible()
    page.get_by_label("Search domains").fill("")
    expect(page.get_by_role("link", name="bücher.example")).to_be_visible()
    screenshot(page, "domain-list")

    # A domain admin for it, through the admin pages.
    nav(page, "Admins").click()
    page.get_by_role("link", name="New admin").click()
    page.get_by_label("Username").fill("shopkeeper")
    page.get_by_role("textbox", name="Domains").fill("shop.example")
    page.get_by_role("button", name="Create admin").click()
    password = page.locator("#generated-password").inner_text()
    assert len(password) >= 16
    user = get_user_model().objects.get(username="shopkeeper")
    assert list(user.administered_domains.values_list("name", flat=True)) == ["shop.example"]
    assert user.check_password(password)

    nav(page, "Mail-stack config").click()
    expect(page.get_by_role("heading", name="Mail-stack config")).to_be_visible()
    screenshot(page, "config")
    nav(page, "Audit log").click()
    expect(page.get_by_role("cell", name="shopkeeper").first).to_be_visible()
    screenshot(page, "audit")
    nav(page, "Dashboard").click()
    screenshot(page, "dashboard")

    # Switching to Ukrainian translates the page.
    page.get_by_label("Language").select_option("uk")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.get_by_role("heading", name="Панель керування")).to_be_visible()
    expect(nav(page, "Домени")).to_be_visible()
    screenshot(page, "dashboard-uk")


def test_new_domain_admin_logs_in_and_cannot_reach_another_domain(page: Page, transactional_db):
    mine = factories.domain("mine.example")
    factories.domain("theirs.example")
    admin = factories.domain_admin("keeper", mine)
    login_admin(page, admin, PASSWORD)
    nav(page, "Domains").click()
    expect(page.get_by_role("link", name="mine.example")).to_be_visible()
    expect(page.get_by_text("theirs.example")).to_have_count(0)
    response = page.goto("/domains/theirs.example/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert page.get_by_text("theirs.example").count() == 0
    response = page.goto("/config/")
    assert response is not None and response.status == 404
    screenshot(page, "not-found")


def test_pages_fit_a_phone_screen(page: Page, superadmin):
    factories.domain("phone.example")
    page.set_viewport_size({"width": 390, "height": 800})
    login_admin(page, superadmin, PASSWORD)
    page.goto("/domains/")
    screenshot(page, "domain-list-phone")
    # Nothing is wider than the screen: wide tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
