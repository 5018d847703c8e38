"""The two login pages look alike (one card, one logo, one button style) and every page has a
favicon, measured in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

MEASURE = """() => {
    const card = document.querySelector("main section.card");
    const box = card.getBoundingClientRect();
    const style = (el) => getComputedStyle(el);
    const button = card.querySelector("button[type=submit]");
    const h1 = card.querySelector("h1");
    const logo = card.querySelector("img.login-logo");
    return {
        left: Math.round(box.left), width: Math.round(box.width),
        h1: style(h1).fontSize, button: style(button).backgroundColor,
        buttonColor: style(button).color, logo: logo ? logo.naturalWidth > 0 : false,
        nav: document.querySelectorAll("header nav a").length,
        search: document.querySelectorAll("#global-search").length,
    };
}"""


def test_both_login_pages_share_one_look(page: Page) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/accounts/login/")
    admin = page.evaluate(MEASURE)
    screenshot(page, "login-admin", full_page=False)
    page.goto("/me/login/")
    owner = page.evaluate(MEASURE)
    screenshot(page, "login-owner", full_page=False)
    assert admin == owner, (admin, owner)
    assert admin["logo"] and admin["nav"] == 0 and admin["search"] == 0


def test_every_page_has_the_favicon_and_the_logo(page: Page) -> None:
    page.goto("/accounts/login/")
    href = page.locator('link[rel="icon"]').get_attribute("href")
    assert href and href.endswith(".svg")
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert page.locator(".brand img").evaluate("img => img.naturalWidth") > 0
