"""An admin sees each mailbox's use of its quota and sorts the list by it, in the real
Chromium, in English and in Ukrainian: the bars are meters named for screen readers with the
figures in text beside them, the headings sort through htmx and the filter keeps the order.
Screenshots: ci-artifacts/screenshots/usage-<language>-<step>.png.
"""

# Ukrainian text: its Cyrillic letters are meant.
# ruff: noqa: RUF001

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import login_admin, screenshot
from tests.browser.test_owner_flow import switch_language
from tests.dovecot_usage import GiB, MiB, report

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "en": {
        "usage": "Usage",
        "meter": "Quota used",
        "over_90": "Over 90% full",
        "ann": "1.9 GiB of 2 GiB (95%)",
        "cleo": "300 MiB used, no limit",
        "dan": "not reported yet",
        "nearly_full": "nearly full",
        "dashboard": "Mailboxes nearly full (90% of their quota or more)",
    },
    "uk": {
        "usage": "Використання",
        "meter": "Використання квоти",
        "over_90": "Заповнені понад 90%",
        "ann": "1.9 GiB з 2 GiB (95%)",
        "cleo": "використано 300 MiB, без ліміту",
        "dan": "даних ще немає",
        "nearly_full": "майже заповнена",
        "dashboard": "Майже заповнені скриньки (90% квоти і більше)",
    },
}


def expect_order(page: Page, *names: str) -> None:
    """The table's rows are these mailboxes in this order (waiting for htmx's swap)."""
    cells = page.locator("#mailbox-table tbody tr td:nth-child(2)")  # after the checkbox
    expect(cells).to_have_text([f"{name}@shop.example" for name in names])


@pytest.mark.parametrize("lang", ["en", "uk"])
def test_admin_sees_usage_bars_and_sorts_by_usage(page: Page, lang: str) -> None:
    t = TEXT[lang]
    factories.domain("shop.example", max_mailbox_quota=0)
    for name, quota, used in [
        ("ann", 2 * GiB, 1946 * MiB),  # 95%
        ("bea", 2 * GiB, 512 * MiB),  # 25%
        ("cleo", 0, 300 * MiB),  # no limit
        ("dan", GiB, None),  # Dovecot has not reported it
        ("eve", GiB, 921 * MiB),  # 89%
    ]:
        factories.mailbox(f"{name}@shop.example", quota=quota)
        if used is not None:
            report(f"{name}@shop.example", used, 10)
    admin = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)

    login_admin(page, admin, factories.PASSWORD)
    if lang != "en":
        switch_language(page, lang)
    expect(page.get_by_text(t["dashboard"])).to_be_visible()
    expect(page.get_by_role("link", name="ann@shop.example")).to_be_visible()
    screenshot(page, f"usage-{lang}-dashboard")

    page.goto("/domains/shop.example/mailboxes/")
    rows = page.locator("#mailbox-table tbody tr")
    ann = rows.filter(has_text="ann@shop.example")
    meter = ann.get_by_role("meter", name=t["meter"])
    expect(meter).to_have_attribute("value", "950")
    expect(ann).to_contain_text(t["ann"])
    expect(ann).to_contain_text(t["nearly_full"])
    expect(rows.filter(has_text="cleo@shop.example")).to_contain_text(t["cleo"])
    dan = rows.filter(has_text="dan@shop.example")
    expect(dan).to_contain_text(t["dan"])
    expect(dan.get_by_role("meter")).to_have_count(0)
    expect_order(page, "ann", "bea", "cleo", "dan", "eve")
    screenshot(page, f"usage-{lang}-list")

    # The heading sorts fullest first (htmx swaps the table and the URL follows), again
    # for emptiest first; the unlimited and the unreported come last either way.
    heading = page.get_by_role("columnheader", name=re.compile(t["usage"]))
    heading.get_by_role("link").click()
    page.wait_for_url(re.compile(r"sort=-usage"))
    expect_order(page, "ann", "eve", "bea", "cleo", "dan")
    expect(heading).to_have_attribute("aria-sort", "descending")
    screenshot(page, f"usage-{lang}-sorted")
    heading.get_by_role("link").click()
    page.wait_for_url(re.compile(r"sort=usage"))
    expect_order(page, "bea", "eve", "ann", "cleo", "dan")
    expect(heading).to_have_attribute("aria-sort", "ascending")

    # "Over 90%" keeps the order and the search field keeps both.
    page.get_by_label(t["over_90"]).check()
    page.wait_for_url(re.compile(r"full=1"))
    expect_order(page, "ann")
    assert "sort=usage" in page.url
    page.get_by_label(t["over_90"]).uncheck()
    page.wait_for_url(lambda url: "full=1" not in url)
    expect_order(page, "bea", "eve", "ann", "cleo", "dan")
    page.locator("#mailbox-q").fill("e")
    page.wait_for_url(re.compile(r"q=e"))
    expect_order(page, "bea", "eve", "cleo")
    assert "sort=usage" in page.url
    screenshot(page, f"usage-{lang}-search")
