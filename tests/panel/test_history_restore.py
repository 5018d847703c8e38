"""htmx restoring a page from history gets the whole page, never the part a search swaps
(tests/browser/test_search_history.py shows Back in Chromium)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db


def test_a_history_restore_request_gets_the_whole_page(admin_client: Client) -> None:
    factories.domain("shop.example")
    url = "/domains/shop.example/mailboxes/?q=bor"
    part = admin_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in part
    page = admin_client.get(
        url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    ).content.decode()
    assert "<html" in page
    assert 'value="bor"' in page
