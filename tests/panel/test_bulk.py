"""Bulk actions on the mailbox and alias lists (mailboxes/bulk.py, mailboxes/views/bulk.py):
a confirmation that states what changes, one transaction, one audit entry per object, the
rules of a single change, and scope."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from mailboxes import bulk
from mailboxes.models import Alias, Mailbox
from tests import factories

pytestmark = pytest.mark.django_db

GiB = 1024**3
MAILBOXES = "/domains/a.example/mailboxes/bulk/"
ALIASES = "/domains/a.example/aliases/bulk/"


def pks(*local_parts: str, model=Mailbox, domain: str = "a.example") -> list[str]:
    rows = model.objects.filter(domain__name=domain, local_part__in=local_parts)
    return [str(pk) for pk in rows.values_list("pk", flat=True)]


def test_the_first_submit_only_shows_what_would_change(client_super: Client) -> None:
    alice, bob = pks("alice", "bob")
    Mailbox.objects.filter(local_part="bob", domain__name="a.example").update(active=False)
    response = client_super.post(MAILBOXES, {"action": "disable", "pk": [alice, bob]})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Disable 1 mailbox?" in page
    assert "alice@a.example" in page and "bob@a.example" in page
    # Only the row that changes is posted again; nothing is written yet.
    assert f'name="pk" value="{alice}"' in page and f'name="pk" value="{bob}"' not in page
    assert Mailbox.objects.filter(active=True, local_part="alice").count() == 2
    assert not AuditEntry.objects.filter(action="disable").exists()


def test_confirmed_it_changes_each_row_with_its_own_audit_entry(client_super: Client) -> None:
    response = client_super.post(
        MAILBOXES, {"action": "disable", "pk": pks("alice", "bob"), "confirmed": "1"}
    )
    assert response.status_code == 302
    assert not Mailbox.objects.filter(domain__name="a.example", active=True).exists()
    assert Mailbox.objects.filter(domain__name="b.example", active=True).count() == 2
    entries = AuditEntry.objects.filter(action="disable", object_type="mailbox")
    assert sorted(e.object_repr for e in entries) == ["alice@a.example", "bob@a.example"]
    followed = client_super.get(response["Location"]).content.decode()
    assert "Disabled 2 mailboxes." in followed


def test_set_quota_is_all_or_nothing_under_the_domains_limits(client_super: Client) -> None:
    factories.domain("small.example", max_mailbox_quota=2 * GiB, total_quota=3 * GiB)
    for name in ("a", "b"):
        factories.mailbox(f"{name}@small.example", quota=GiB)
    url = "/domains/small.example/mailboxes/bulk/"
    every = pks("a", "b", domain="small.example")
    response = client_super.post(url, {"action": "set_quota", "quota": "2G", "pk": every})
    assert "Set the quota of 2 mailboxes to 2 GiB?" in response.content.decode()
    response = client_super.post(
        url, {"action": "set_quota", "quota": "2G", "pk": every, "confirmed": "1"}
    )
    followed = client_super.get(response["Location"]).content.decode()
    # The second mailbox would pass the total of 3 GiB: the first change is rolled back too.
    assert "Nothing in the batch was changed." in followed
    assert sorted(
        Mailbox.objects.filter(domain__name="small.example").values_list("quota", flat=True)
    ) == [GiB, GiB]
    assert not AuditEntry.objects.filter(action="update", object_type="mailbox").exists()


def test_a_quota_without_a_unit_is_refused(client_super: Client) -> None:
    response = client_super.post(
        MAILBOXES, {"action": "set_quota", "quota": "5", "pk": pks("alice"), "confirmed": "1"}
    )
    followed = client_super.get(response["Location"]).content.decode()
    assert "unit" in followed
    assert Mailbox.objects.get(local_part="alice", domain__name="a.example").quota != 5


def test_all_matching_the_search(client_super: Client) -> None:
    response = client_super.post(MAILBOXES, {"action": "delete", "all_matching": "on", "q": "ali"})
    page = response.content.decode()
    assert "Delete 1 mailbox?" in page and "alice@a.example" in page and "bob@a.example" not in page
    client_super.post(MAILBOXES, {"action": "delete", "pk": pks("alice"), "confirmed": "1"})
    assert not Mailbox.objects.filter(local_part="alice", domain__name="a.example").exists()
    assert Mailbox.objects.filter(local_part="alice", domain__name="b.example").exists()


def test_a_domain_admin_cannot_reach_another_domains_rows(client_a: Client) -> None:
    theirs = pks("alice", domain="b.example")
    response = client_a.post(MAILBOXES, {"action": "disable", "pk": theirs, "confirmed": "1"})
    followed = client_a.get(response["Location"]).content.decode()
    assert "Nothing is selected" in followed
    assert Mailbox.objects.get(local_part="alice", domain__name="b.example").active
    assert (
        client_a.post("/domains/b.example/mailboxes/bulk/", {"action": "disable"}).status_code
        == 404
    )


def test_nothing_ticked_and_no_action_say_so(client_super: Client) -> None:
    response = client_super.post(MAILBOXES, {"action": "disable"})
    assert "Nothing is selected" in client_super.get(response["Location"]).content.decode()
    response = client_super.post(MAILBOXES, {"pk": pks("alice")})
    assert "This field is required." in client_super.get(response["Location"]).content.decode()


def test_more_than_a_batch_is_refused(superadmin, domain_a, monkeypatch) -> None:
    monkeypatch.setattr(bulk, "MAX_BATCH", 1)
    with pytest.raises(Exception, match="a batch changes at most 1"):
        bulk.selected_mailboxes(
            user=superadmin, domain=domain_a, selection=bulk.Selection(all_matching=True)
        )


def test_aliases_in_bulk(client_super: Client) -> None:
    chosen = pks("sales", "", model=Alias)
    response = client_super.post(ALIASES, {"action": "disable", "pk": chosen})
    page = response.content.decode()
    assert "Disable 2 aliases?" in page and "catch-all" in page
    client_super.post(ALIASES, {"action": "disable", "pk": chosen, "confirmed": "1"})
    assert not Alias.objects.filter(domain__name="a.example", active=True).exists()
    assert AuditEntry.objects.filter(action="disable", object_type="alias").count() == 2
    client_super.post(ALIASES, {"action": "delete", "pk": chosen, "confirmed": "1"})
    assert not Alias.objects.filter(domain__name="a.example").exists()


def test_the_lists_carry_the_bulk_bar_and_a_checkbox_per_row(client_super: Client) -> None:
    page = client_super.get("/domains/a.example/mailboxes/").content.decode()
    assert 'id="mailbox-bulk"' in page
    assert page.count('form="mailbox-bulk"') == 2  # alice and bob
    page = client_super.get("/domains/a.example/aliases/").content.decode()
    assert 'id="alias-bulk"' in page and page.count('name="pk"') == 2
