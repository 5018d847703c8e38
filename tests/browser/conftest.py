"""Browser tests: the real panel served by pytest-django's live_server, driven in the real
Chromium of the system (/usr/bin/chromium, installed by .ci/run) through Playwright.

Screenshots go to ci-artifacts/screenshots/, which CI keeps for people to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls from
# "async" code unless told it is safe (the tests call the ORM between browser steps).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("MAILADMIN_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "ci-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh browser context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 860}, locale="en-US"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def login_admin(page: Page, user, password: str) -> None:
    """Log in through the admin login form and wait for the dashboard."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # The dashboard is "/" itself; the login page's own URL also ends in "/".
    page.wait_for_url(lambda url: urlsplit(url).path == "/")


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save `name`.png under ci-artifacts/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
