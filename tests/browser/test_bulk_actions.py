"""Bulk actions in Chromium: tick rows (or the whole page), choose, review what changes, and
confirm; a screenshot of each step."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from mailboxes.models import Mailbox
from tests import factories
from tests.browser.conftest import login_admin, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
GiB = 1024**3


def test_tick_review_and_confirm(page: Page, transactional_db) -> None:
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    factories.domain("shop.example", max_mailbox_quota=10 * GiB)
    for name in ("anna", "ben", "cy"):
        factories.mailbox(f"{name}@shop.example", quota=GiB)
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/mailboxes/")
    page.get_by_label("Select anna@shop.example").check()
    page.get_by_label("Select cy@shop.example").check()
    bar = page.locator("#mailbox-bulk")
    bar.get_by_label("With the selected rows").select_option("set_quota")
    bar.get_by_label("New quota").fill("5G")
    screenshot(page, "bulk-1-ticked", full_page=False)
    bar.get_by_role("button", name="Review the change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Set the quota of 2 mailboxes to 5 GiB?"
    )
    screenshot(page, "bulk-2-review", full_page=False)
    assert set(Mailbox.objects.values_list("quota", flat=True)) == {GiB}
    page.get_by_role("button", name="Set quota").click()
    expect(page.locator("#messages")).to_contain_text("Changed the quota of 2 mailboxes.")
    quotas = dict(Mailbox.objects.values_list("local_part", "quota"))
    assert quotas == {"anna": 5 * GiB, "ben": GiB, "cy": 5 * GiB}

    page.get_by_label("Select every row of this page").check()
    expect(page.get_by_label("Select ben@shop.example")).to_be_checked()
    page.locator("#mailbox-bulk").get_by_label("With the selected rows").select_option("disable")
    page.locator("#mailbox-bulk").get_by_role("button", name="Review the change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Disable 3 mailboxes?")
    page.get_by_role("button", name="Disable").click()
    expect(page.locator("#messages")).to_contain_text("Disabled 3 mailboxes.")
    assert not Mailbox.objects.filter(active=True).exists()
