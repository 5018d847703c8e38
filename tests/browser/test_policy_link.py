"""The owners' password policy is reached from the panel, not only by its URL."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import login_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_policy_page_is_linked_from_the_server_settings(page: Page, transactional_db):
    root = get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
    login_admin(page, root, factories.PASSWORD)
    page.get_by_role("banner").get_by_role("link", name="Server settings").click()
    page.get_by_role("link", name="Owners’ password policy").click()  # noqa: RUF001
    expect(page.get_by_role("heading", name="Password policy for mailbox owners")).to_be_visible()
