"""Every main page in Chromium: an axe-core scan in both languages (no serious or critical
violation) and screenshots at 390, 1366 and 1920 px wide for people to look at.

axe-core comes from the npm registry (scripts/test runs ensure_axe, scripts/lib.sh) and is
injected into each page through Playwright; the scan runs the WCAG 2.1 A and AA rules and the
best practices axe ships.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Page

from audit.models import AuditEntry
from domains import services as domain_services
from mailboxes.models import Mailbox
from tests import factories
from tests.browser.conftest import login_admin, screenshot
from tests.support import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

AXE = ROOT / "var" / "node" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1366, 1920)
LANGUAGES = ("en", "uk")
BLOCKING = {"serious", "critical"}
OWNER = "olena@shop.example"
OWNER_PASSWORD = "owner password 1"

ADMIN_PAGES = {
    "dashboard": "/",
    "domain-list": "/domains/",
    "domain-new": "/domains/new/",
    "domain-detail": "/domains/shop.example/",
    "domain-edit": "/domains/shop.example/edit/",
    "mailbox-list": "/domains/shop.example/mailboxes/",
    "mailbox-new": "/domains/shop.example/mailboxes/new/",
    "alias-list": "/domains/shop.example/aliases/",
    "alias-new": "/domains/shop.example/aliases/new/",
    "aliasdomain-list": "/domains/shop.example/alias-domains/",
    "search": "/search/?q=olena",
    "trace": "/trace/?address=team@shop.example",
    "transfer": "/transfer/",
    "audit": "/audit/",
    "admins": "/accounts/admins/",
    "throttles": "/accounts/throttles/",
    "config": "/config/",
    "server": "/server/",
    "password": "/accounts/password/",
}
OWNER_PAGES = {
    "owner-home": "/me/",
    "owner-password": "/me/password/",
    "owner-forwarding": "/me/forwarding/",
    "owner-vacation": "/me/vacation/",
    "owner-filters": "/me/filters/",
}
LOGIN_PAGES = {"admin-login": "/accounts/login/", "owner-login": "/me/login/"}


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """As conftest's page, with the Content-Security-Policy bypassed: it forbids the inline
    script axe is injected as (and nothing else of the page changes)."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def axe_source() -> str:
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed at {AXE} (scripts/test installs it)")
    return AXE.read_text()


@pytest.fixture
def world(transactional_db):
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    shop = factories.domain("shop.example", description="The shop", max_mailboxes=100)
    factories.domain("bücher.example")
    for name in ("anna", "ben", "cy"):
        factories.mailbox(f"{name}@shop.example", name=name.title())
    factories.mailbox(OWNER, password=OWNER_PASSWORD, name="Olena Kovalenko")
    factories.alias("team@shop.example", "anna@shop.example", "ben@shop.example")
    factories.alias("@shop.example", "anna@shop.example")
    domain_services.alias_domain_create(actor=root, name="shop.net", target="shop.example")
    factories.domain_admin("clerk", shop)
    assert AuditEntry.objects.exists() and Mailbox.objects.count() == 4
    return root


def set_language(page: Page, code: str) -> None:
    """Django's language cookie, for the whole site (a cookie set for a page's URL would be
    for that path only)."""
    origin = "/".join(page.url.split("/")[:3])
    page.context.add_cookies([{"name": "django_language", "value": code, "url": origin + "/"}])


def violations(page: Page, axe_source: str) -> list[str]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {json.dumps(v['nodes'])}"
        for v in result
        if v["impact"] in BLOCKING
    ]


def scan(page: Page, pages: dict[str, str], axe_source: str, shots: bool) -> list[str]:
    found = []
    for language in LANGUAGES:
        set_language(page, language)
        for name, path in pages.items():
            page.set_viewport_size({"width": 1366, "height": 900})
            response = page.goto(path)
            assert response is not None and response.status == 200, (path, response)
            assert page.locator("html").get_attribute("lang") == language, path
            found += [f"{language} {path}: {v}" for v in violations(page, axe_source)]
            if shots and language == "en":
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 1080 if width > 390 else 844})
                    screenshot(page, f"page-{name}-{width}")
    return found


def test_admin_pages(page: Page, world, axe_source: str) -> None:
    page.goto("/accounts/login/")
    found = scan(page, LOGIN_PAGES, axe_source, shots=True)
    set_language(page, "en")
    login_admin(page, world, factories.PASSWORD)
    found += scan(page, ADMIN_PAGES, axe_source, shots=True)
    assert not found, "\n".join(found)


def test_owner_pages(page: Page, world, axe_source: str) -> None:
    page.goto("/me/login/")
    set_language(page, "en")
    page.goto("/me/login/")
    page.get_by_label("Address").fill(OWNER)
    page.get_by_label("Password", exact=True).fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/me/")
    assert not (found := scan(page, OWNER_PAGES, axe_source, shots=True)), "\n".join(found)


def test_the_screenshots_are_kept(world) -> None:
    """The folder CI keeps: tests/browser/conftest.py's SCREENSHOTS."""
    from tests.browser.conftest import SCREENSHOTS

    assert Path(SCREENSHOTS).is_relative_to(ROOT / "ci-artifacts")
