"""An alias to an address of a domain hosted here that does not exist, in Chromium: the
panel refuses it and names the address, where it used to save an alias whose mail bounced."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from mailboxes.models import Alias
from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_alias_form_refuses_a_missing_local_destination(page: Page, transactional_db) -> None:
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    factories.domain("shop.example")
    factories.mailbox("anna@shop.example")
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/aliases/new/")
    form = page.locator("#alias-create")
    form.get_by_label("Address").fill("team")
    form.get_by_label("Destinations").fill("anna@shop.example, anan@shop.example, x@else.example")
    form.get_by_role("button", name="Create alias").click()
    expect(form).to_contain_text(
        "anan@shop.example does not exist: its domain is hosted here and has no mailbox"
    )
    assert not Alias.objects.exists()

    form.get_by_label("Destinations").fill("anna@shop.example, x@else.example")
    form.get_by_role("button", name="Create alias").click()
    expect(page.locator("#messages")).to_contain_text("Alias team@shop.example created.")
    assert Alias.objects.get(local_part="team").destinations.count() == 2
