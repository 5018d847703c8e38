"""The rows-per-page choice of the mailbox and alias lists (`?per_page=`, one of
mailadmin.pagination.PAGE_SIZES): the page holds that many rows, in the same queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.panel.conftest import mailbox_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowded(superadmin):
    factories.domain("many.example")
    for n in range(120):
        factories.mailbox(f"user{n:03d}@many.example", password=None, password_hash=mailbox_hash())
        factories.alias(f"list{n:03d}@many.example", "x@else.example")
    client = Client()
    client.force_login(superadmin)
    return client


def rows(client: Client, url: str) -> int:
    return client.get(url).content.decode().count('name="pk"')


def test_each_page_size_is_what_the_page_holds(crowded: Client) -> None:
    mailboxes = "/domains/many.example/mailboxes/"
    assert rows(crowded, mailboxes) == 50
    assert rows(crowded, mailboxes + "?per_page=25") == 25
    assert rows(crowded, mailboxes + "?per_page=100") == 100
    assert rows(crowded, mailboxes + "?per_page=200") == 120
    assert rows(crowded, mailboxes + "?per_page=100000") == 50  # not offered: the default
    assert rows(crowded, "/domains/many.example/aliases/?per_page=25") == 25


def test_the_choice_is_kept_by_the_next_link_and_costs_no_query(crowded: Client) -> None:
    page = crowded.get("/domains/many.example/mailboxes/?per_page=25").content.decode()
    assert "after=user024" in page and "per_page=25" in page
    assert '<strong aria-current="true">25</strong>' in page
    with CaptureQueriesContext(connection) as small:
        crowded.get("/domains/many.example/mailboxes/?per_page=25", headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as large:
        crowded.get("/domains/many.example/mailboxes/?per_page=200", headers={"HX-Request": "true"})
    assert len(small) == len(large)


def test_the_status_and_format_filters(crowded: Client, superadmin) -> None:
    from mailboxes.models import Alias, Mailbox

    Mailbox.objects.filter(local_part__in=["user001", "user002"]).update(active=False)
    factories.mailbox(
        "mboxer@many.example", storage_format="mbox", password=None, password_hash=mailbox_hash()
    )
    Alias.objects.filter(local_part="list007").update(active=False)
    base = "/domains/many.example/mailboxes/"
    disabled = crowded.get(base + "?status=disabled").content.decode()
    assert disabled.count('name="pk"') == 2 and "user001@many.example" in disabled
    assert crowded.get(base + "?status=active").content.decode().count('name="pk"') == 50
    assert "mboxer@many.example" in crowded.get(base + "?format=mbox").content.decode()
    assert crowded.get(base + "?format=mbox").content.decode().count('name="pk"') == 1
    assert crowded.get(base + "?status=nonsense").content.decode().count('name="pk"') == 50
    aliases = crowded.get("/domains/many.example/aliases/?status=disabled").content.decode()
    assert aliases.count('name="pk"') == 1 and "list007@many.example" in aliases
    # "All matching" in the bulk bar takes the filters too.
    review = crowded.post(
        base + "bulk/", {"action": "enable", "all_matching": "on", "status": "disabled"}
    ).content.decode()
    assert "Enable 2 mailboxes?" in review


def test_the_lists_show_the_domains_totals(crowded: Client) -> None:
    assert "120 mailboxes." in crowded.get("/domains/many.example/mailboxes/").content.decode()
    assert "120 aliases." in crowded.get("/domains/many.example/aliases/").content.decode()
