"""An alias at a mailbox's address, in Chromium: the panel asks whether the mailbox keeps a
copy instead of silently taking all of its mail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from mailboxes.models import Alias, Mailbox
from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_alias_form_asks_about_the_mailbox(page: Page, transactional_db) -> None:
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    factories.domain("shop.example")
    factories.mailbox("anna@shop.example")
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/aliases/new/")
    form = page.locator("#alias-create")
    form.get_by_label("Address").fill("anna")
    form.get_by_label("Destinations").fill("x@else.example")
    form.get_by_role("button", name="Create alias").click()
    expect(form).to_contain_text("anna@shop.example is a mailbox: an alias at its address takes")
    assert not Alias.objects.exists()

    form.get_by_label("The mailbox keeps a copy").check()
    form.get_by_role("button", name="Create alias").click()
    expect(page.locator("#messages")).to_contain_text("Alias anna@shop.example created.")
    alias = Alias.objects.get(local_part="anna")
    assert sorted(alias.destinations.values_list("address", flat=True)) == [
        "anna@shop.example",
        "x@else.example",
    ]


def test_the_mailbox_form_asks_about_the_alias(page: Page, transactional_db) -> None:
    """The reverse: a new mailbox at an alias's address would receive nothing."""
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    factories.domain("shop.example")
    factories.mailbox("anna@shop.example")
    factories.alias("team@shop.example", "anna@shop.example")
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/mailboxes/new/")
    form = page.locator("#mailbox-create")
    form.get_by_label("Address").fill("team")
    form.get_by_role("button", name="Create mailbox").click()
    expect(form).to_contain_text("team@shop.example is an alias: a mailbox at its address")
    assert not Mailbox.objects.filter(local_part="team").exists()

    form.get_by_label("The alias delivers a copy to the mailbox").check()
    form.get_by_role("button", name="Create mailbox").click()
    expect(page.locator("#messages")).to_contain_text("Mailbox team@shop.example created.")
    alias = Alias.objects.get(local_part="team")
    assert sorted(alias.destinations.values_list("address", flat=True)) == [
        "anna@shop.example",
        "team@shop.example",
    ]
