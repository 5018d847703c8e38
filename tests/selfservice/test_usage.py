"""The owner's /me/ home shows their own mailbox's use of its quota, and nobody else's."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from mailboxes.models import Mailbox
from tests import factories
from tests.dovecot_usage import GiB, MiB, report
from tests.selfservice.conftest import OWNER, login_owner

pytestmark = pytest.mark.django_db


def usage_cell(client: Client) -> str:
    body = client.get("/me/").content.decode()
    found = re.search(r'<dd data-testid="usage">(.*?)</dd>', body, re.S)
    assert found, body
    return found.group(1)


def test_owner_sees_used_and_limit_with_the_bar(owner: Mailbox, owner_client: Client) -> None:
    Mailbox.objects.filter(pk=owner.pk).update(quota=2 * GiB)
    report(OWNER, 1843 * MiB, 321)
    cell = usage_cell(owner_client)
    assert "1.8 GiB of 2 GiB (89%)" in cell
    assert re.search(r'<meter [^>]*value="899" aria-label="Quota used">89%</meter>', cell)
    assert "321 messages" in cell and "counted at" in cell


def test_before_dovecot_reports_and_without_a_limit(owner: Mailbox, owner_client: Client) -> None:
    Mailbox.objects.filter(pk=owner.pk).update(quota=0)
    assert "not reported yet" in usage_cell(owner_client)
    report(OWNER, 5 * MiB, 1)
    cell = usage_cell(owner_client)
    assert "5 MiB used, no limit" in cell and "1 message ·" in cell


def test_an_owner_sees_only_their_own_usage(owner: Mailbox, owner_client: Client) -> None:
    factories.mailbox("jane@example.com", password="Other-Harbour-77", quota=GiB)
    report("jane@example.com", 999 * MiB, 77)
    body = owner_client.get("/me/").content.decode()
    assert "not reported yet" in body
    assert "999 MiB" not in body and "77 messages" not in body
    # An owner is no admin: the panel's lists with everyone's usage stay closed.
    listing = owner_client.get("/domains/example.com/mailboxes/", {"sort": "-usage"})
    assert listing.status_code == 302 and "/accounts/login/" in listing["Location"]


def test_usage_in_ukrainian(owner: Mailbox) -> None:
    client = Client()
    client.cookies["django_language"] = "uk"
    login_owner(client)
    Mailbox.objects.filter(pk=owner.pk).update(quota=GiB)
    report(OWNER, 512 * MiB, 3)
    cell = usage_cell(client)
    assert "512 MiB з 1 GiB (50%)" in cell and "Використання квоти" in cell
    assert "3 листи" in cell and "підраховано" in cell
    assert "Використано" in client.get("/me/").content.decode()
