"""The owner's page shows an IDN domain as people write it (bücher.example), not as its
stored A-label (xn--bcher-kva.example)."""

from __future__ import annotations

import pytest
from django.test import Client

from domains import services as ds
from mailboxes import services as ms
from tests import factories
from tests.selfservice.conftest import OWNER_PASSWORD, login_owner

pytestmark = pytest.mark.django_db


def test_the_owners_page_shows_unicode_names() -> None:
    factories.domain("bücher.example")
    factories.mailbox("jan@bücher.example", password=OWNER_PASSWORD)
    ds.alias_domain_create(actor=None, name="münchen.example", target="bücher.example")
    ms.alias_create(actor=None, address="info@bücher.example", destinations=["jan@bücher.example"])
    ms.alias_create(actor=None, address="@bücher.example", destinations=["jan@bücher.example"])
    client = Client()
    assert login_owner(client, "jan@bücher.example").status_code == 302
    page = client.get("/me/").content.decode()
    assert "xn--" not in page
    for shown in ("jan@bücher.example", "jan@münchen.example", "info@bücher.example"):
        assert shown in page
    assert "Any other address at bücher.example" in page
