"""Lowering a domain's limits below its use, in Chromium: saved, with the use said."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from domains.models import Domain
from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_lowering_the_mailbox_limit_below_use_warns(page: Page, transactional_db) -> None:
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    factories.domain("shop.example")
    for local in ("anna", "boris", "clara"):
        factories.mailbox(f"{local}@shop.example")
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/edit/")
    page.get_by_label("Max mailboxes").fill("2")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/domains/shop\.example/$"))
    messages = page.locator("#messages")
    expect(messages).to_contain_text("The domain shop.example was saved.")
    expect(messages).to_contain_text(
        "shop.example has 3 mailboxes, more than its maximum of 2: no mailbox can be added"
        " until some are deleted."
    )
    assert Domain.objects.get(name="shop.example").max_mailboxes == 2
