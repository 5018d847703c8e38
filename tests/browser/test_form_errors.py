"""Every mistake of a form at once, in Chromium: the browser does not stop the submit at the
first field, and the server names each mistake on its field."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from mailboxes.models import Mailbox
from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_mailbox_form_shows_all_its_mistakes_in_one_submit(page: Page, transactional_db):
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    factories.domain("shop.example", max_mailbox_quota=1024**3)
    factories.mailbox("anna@shop.example")
    login_admin(page, root, factories.PASSWORD)
    page.goto("/domains/shop.example/mailboxes/new/")
    form = page.locator("#mailbox-create")

    # Two mistakes the form finds: no address, a size that is none.
    form.get_by_label("Quota").fill("lots")
    form.get_by_role("button", name="Create mailbox").click()
    expect(form).to_contain_text("This field is required.")
    expect(form).to_contain_text("“lots” is not a size")

    # Three the service finds: the address is taken, the quota too big, the password short.
    form.get_by_label("Address").fill("anna")
    form.get_by_label("Quota").fill("2G")
    form.get_by_label("Type a password").check()
    form.get_by_label("New password").fill("short")
    form.get_by_role("button", name="Create mailbox").click()
    expect(form).to_contain_text("already exists")
    expect(form).to_contain_text("allows at most 1 GiB per mailbox")
    expect(form).to_contain_text("A password needs at least")
    assert Mailbox.objects.count() == 1
