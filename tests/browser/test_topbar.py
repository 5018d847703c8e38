"""The top bar at 1366 px in both languages: the pages on one line, two rows in all (the
Ukrainian one used to take four)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page

from tests import factories
from tests.browser.conftest import login_admin, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "uk"])
def test_the_top_bar_is_two_rows_at_1366(page: Page, transactional_db, language: str) -> None:
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    login_admin(page, root, factories.PASSWORD)
    origin = "/".join(page.url.split("/")[:3])
    page.context.add_cookies([{"name": "django_language", "value": language, "url": origin + "/"}])
    page.set_viewport_size({"width": 1366, "height": 800})
    page.goto("/")
    screenshot(page, f"topbar-1366-{language}", full_page=False)
    tops = page.locator("header.topbar nav a").evaluate_all(
        "links => [...new Set(links.map(a => Math.round(a.getBoundingClientRect().top)))]"
    )
    assert len(tops) == 1, tops
    height = page.locator("header.topbar").evaluate("bar => bar.getBoundingClientRect().height")
    # Two rows: the tools' row and the pages' row (the Ukrainian bar was 147 px, four rows).
    assert height < 110, height
