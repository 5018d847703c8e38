"""An admin name that differs from an existing one only in case is refused in the panel."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_spelling_of_an_admin_name_is_refused(page: Page, transactional_db) -> None:
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    factories.domain("shop.example")
    login_admin(page, root, factories.PASSWORD)
    page.goto("/accounts/admins/new/")
    page.get_by_label("Username").fill("ROOT")
    page.get_by_role("textbox", name="Domains").fill("shop.example")
    page.get_by_role("button", name="Create admin").click()
    expect(page.get_by_text("usernames that differ only in case are one name")).to_be_visible()
    expect(page.get_by_text("An admin named root already exists")).to_be_visible()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["root"]
