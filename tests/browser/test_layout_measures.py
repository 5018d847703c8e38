"""Measured in Chromium at 1366 px: a mailbox row is one line high with its actions on one
line, the domain tabs mark the current page, and a value without spaces wraps instead of
widening its table off the screen."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from domains.models import Domain
from tests import factories
from tests.browser.conftest import login_admin, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = ("Olena Kovalenko", "Max Schneider-Obermeier", "Jo", "Анастасія Шевченко")


@pytest.fixture
def root(transactional_db):
    return get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)


def test_fifty_mailbox_rows_are_one_line_each_at_1366(page: Page, root) -> None:
    factories.domain("shop.example", max_mailbox_quota=10 * 1024**3)
    for n in range(50):
        name = NAMES[n % len(NAMES)]
        factories.mailbox(
            f"user.number{n:02d}@shop.example", name=name, quota=(n + 1) * 1024**3 // 8
        )
    page.set_viewport_size({"width": 1366, "height": 900})
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/mailboxes/")
    rows = page.locator("#mailbox-table tbody tr")
    expect(rows).to_have_count(50)
    screenshot(page, "mailbox-list-1366", full_page=False)
    heights = rows.evaluate_all("rows => rows.map(row => row.getBoundingClientRect().height)")
    line = page.locator("#mailbox-table thead tr").evaluate(
        "row => row.getBoundingClientRect().height"
    )
    # One line of text: about the header row's height, never two lines.
    assert max(heights) <= 1.5 * line, (max(heights), line)
    # Every action of a row on one line: the same top for the first and the last.
    tops = rows.first.locator("td.actions > *").evaluate_all(
        "items => items.map(item => Math.round(item.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 1, tops
    # The cells of a row line up: the actions cell is a table cell, not a flex box.
    display = rows.first.locator("td.actions").evaluate("cell => getComputedStyle(cell).display")
    assert display == "table-cell"


def test_the_current_domain_tab_is_marked(page: Page, root) -> None:
    factories.domain("shop.example")
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/aliases/")
    current = page.get_by_role("navigation", name="Domain pages").locator("[aria-current=page]")
    expect(current).to_have_text("Aliases")
    other = page.get_by_role("navigation", name="Domain pages").get_by_role(
        "link", name="Mailboxes"
    )
    weight = lambda locator: locator.evaluate("a => getComputedStyle(a).borderBottomColor")  # noqa: E731
    assert weight(current) != weight(other)


def test_a_long_value_without_spaces_stays_in_its_table(page: Page, root) -> None:
    long = "x" * 255
    factories.domain("shop.example", description=long)
    factories.mailbox("anna@shop.example", name="N" * 255)
    Domain.objects.filter(name="shop.example").update(description=long)
    page.set_viewport_size({"width": 1366, "height": 900})
    login_admin(page, root, factories.PASSWORD)
    for url in ("/domains/", "/domains/shop.example/mailboxes/"):
        page.goto(url)
        table, wrap = page.locator("table").first, page.locator(".table-wrap").first
        table_width = table.evaluate("t => t.getBoundingClientRect().width")
        wrap_width = wrap.evaluate("w => w.clientWidth")
        assert table_width <= wrap_width + 1, (url, table_width, wrap_width)


def test_at_1920_by_1080_at_least_25_mailbox_rows_are_in_view(page: Page, root) -> None:
    factories.domain("shop.example", max_mailboxes=500, max_mailbox_quota=10 * 1024**3)
    for n in range(30):
        factories.mailbox(f"user.number{n:02d}@shop.example", name=NAMES[n % len(NAMES)])
    page.set_viewport_size({"width": 1920, "height": 1080})
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/mailboxes/")
    screenshot(page, "mailbox-list-1920x1080", full_page=False)
    bottoms = page.locator("#mailbox-table tbody tr").evaluate_all(
        "rows => rows.map(row => row.getBoundingClientRect().bottom)"
    )
    in_view = sum(1 for bottom in bottoms if bottom <= 1080)
    assert in_view >= 25, (in_view, bottoms[:3])
