"""What a quota field means, in Chromium: a number needs a unit, the help text says what an
empty field gives in this domain, and quota handed out is never "unlimited"."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from mailboxes.models import Mailbox
from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)

GIB = 1024**3


@pytest.fixture
def superadmin(transactional_db):
    return get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)


def test_a_quota_without_a_unit_is_refused(page: Page, superadmin) -> None:
    factories.domain("shop.example", max_mailbox_quota=2 * GIB)
    login_admin(page, superadmin, factories.PASSWORD)
    page.goto("/domains/shop.example/mailboxes/")
    page.get_by_role("link", name="New mailbox").click()
    form = page.locator("#mailbox-create")
    expect(form).to_contain_text("Empty: the domain's maximum, 2 GiB.")
    expect(form).not_to_contain_text("no limit")
    form.get_by_label("Address").fill("anna")
    form.get_by_label("Quota").fill("5")
    form.get_by_role("button", name="Create mailbox").click()
    expect(form).to_contain_text("“5” has no unit: write 5M or 5G, or 5B for bytes.")
    assert not Mailbox.objects.exists()
    form.get_by_label("Quota").fill("5M")
    form.get_by_role("button", name="Create mailbox").click()
    expect(page.locator("#mailbox-table")).to_contain_text("anna@shop.example")
    assert Mailbox.objects.get().quota == 5 * 1024**2


def test_no_quota_handed_out_is_zero_not_unlimited(page: Page, superadmin) -> None:
    factories.domain("shop.example", total_quota=10 * GIB)
    login_admin(page, superadmin, factories.PASSWORD)
    page.goto("/domains/shop.example/mailboxes/")
    limits = page.locator(".limits")
    expect(limits).to_contain_text("0 B of the total quota of 10 GiB given to mailboxes.")
    expect(limits).not_to_contain_text("unlimited")
    page.get_by_role("link", name="New mailbox").click()
    expect(page.locator("#mailbox-create")).to_contain_text("Needed: the domain has a total quota.")
