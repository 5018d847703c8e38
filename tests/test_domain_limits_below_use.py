"""Lowering a domain's limits below its use saves, and says what the domain now holds over
them (domains/limits.py); tests/browser/test_limits_below_use.py shows it in the panel."""

from __future__ import annotations

import pytest
from django.test import Client

from domains.limits import limits_below_use
from domains.models import Domain
from tests import factories

pytestmark = pytest.mark.django_db

GIB = 1024**3


@pytest.fixture
def shop() -> Domain:
    domain = factories.domain("shop.example")
    factories.mailbox("anna@shop.example", quota=3 * GIB)
    factories.mailbox("boris@shop.example", quota=1 * GIB)
    factories.mailbox("clara@shop.example", quota=0)
    factories.alias("team@shop.example", "anna@shop.example")
    factories.alias("info@shop.example", "anna@shop.example")
    return domain


def test_a_domain_within_its_limits_says_nothing(shop: Domain) -> None:
    Domain.objects.filter(pk=shop.pk).update(max_mailboxes=3, max_aliases=2, total_quota=0)
    assert limits_below_use(Domain.objects.get(pk=shop.pk)) == []


def test_every_limit_below_use_is_named(shop: Domain) -> None:
    Domain.objects.filter(pk=shop.pk).update(
        max_mailboxes=2, max_aliases=1, total_quota=2 * GIB, max_mailbox_quota=2 * GIB
    )
    assert limits_below_use(Domain.objects.get(pk=shop.pk)) == [
        "shop.example has 3 mailboxes, more than its maximum of 2: no mailbox can be added"
        " until some are deleted.",
        "shop.example has 2 aliases, more than its maximum of 1: no alias can be added until"
        " some are deleted.",
        "The quotas of shop.example's mailboxes add up to 4 GiB, more than its total quota of"
        " 2 GiB: no quota can grow and no mailbox be added until some is freed.",
        "1 mailbox has a quota above the maximum of 2 GiB (the largest is 3 GiB); it keeps its"
        " quota until it is changed.",
        "1 mailbox has no quota although the maximum is now 2 GiB; it keeps no limit until its"
        " quota is changed.",
    ]


def test_the_edit_page_warns_after_lowering_a_limit(admin_client: Client, shop: Domain) -> None:
    form = {"delivery": "hosted", "max_mailboxes": "2", "max_aliases": "0"}
    form |= {"max_mailbox_quota": "0", "total_quota": "0", "transport": "", "active": "on"}
    response = admin_client.post("/domains/shop.example/edit/", form, follow=True)
    page = response.content.decode()
    assert "The domain shop.example was saved." in page
    assert "shop.example has 3 mailboxes, more than its maximum of 2" in page
    assert Domain.objects.get(pk=shop.pk).max_mailboxes == 2
