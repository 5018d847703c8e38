"""The dashboard: counts, domains near their limits, inactive items, what needs attention."""

from __future__ import annotations

import pytest

from domains import services as domain_services
from domains.models import Domain
from mailboxes.models import Alias, Mailbox
from tests import factories

pytestmark = pytest.mark.django_db


def test_counts_are_scoped_to_the_admin(client_super, client_a):
    Mailbox.objects.filter(local_part="bob", domain__name="b.example").update(active=False)
    everything = client_super.get("/").context["summary"]
    assert everything["domains"] == 2
    assert everything["mailboxes"] == 4
    assert everything["aliases"] == 4
    assert everything["alias_domains"] == 2
    assert everything["mailboxes_inactive"] == 1
    mine = client_a.get("/").context["summary"]
    assert mine["domains"] == 1
    assert mine["mailboxes"] == 2
    assert mine["mailboxes_inactive"] == 0


def test_domains_at_90_percent_of_a_limit_need_attention(client_super, domain_a, domain_b):
    Domain.objects.filter(pk=domain_a.pk).update(max_mailboxes=2)  # 2 of 2
    Domain.objects.filter(pk=domain_b.pk).update(max_mailboxes=3)  # 2 of 3: 66%
    near = client_super.get("/").context["near_limits"]
    assert [d.name for d in near] == ["a.example"]
    Domain.objects.filter(pk=domain_b.pk).update(max_aliases=2)  # 2 aliases of 2
    near = client_super.get("/").context["near_limits"]
    assert [d.name for d in near] == ["a.example", "b.example"]


def test_total_quota_near_its_limit(client_super, domain_a):
    domain_services.domain_update(actor=None, domain=domain_a, total_quota=10 * 1024**2)
    Mailbox.objects.filter(domain=domain_a).update(quota=4 * 1024**2)  # 8 of 10 MiB
    assert client_super.get("/").context["near_limits"] == []
    Mailbox.objects.filter(domain=domain_a, local_part="bob").update(quota=5 * 1024**2)
    assert [d.name for d in client_super.get("/").context["near_limits"]] == ["a.example"]


def test_inactive_and_empty_domains_are_listed(client_super, domain_a):
    factories.domain("empty.example")
    domain_services.domain_set_active(actor=None, domain=domain_a, active=False)
    response = client_super.get("/")
    assert [d.name for d in response.context["inactive_domains"]] == ["a.example"]
    assert [d.name for d in response.context["empty_domains"]] == ["empty.example"]
    body = response.content.decode()
    assert "Needs attention" in body


def test_a_domain_admin_does_not_see_other_domains_needing_attention(client_a, domain_b):
    Domain.objects.filter(pk=domain_b.pk).update(max_mailboxes=1, active=False)
    response = client_a.get("/")
    assert response.context["near_limits"] == []
    assert response.context["inactive_domains"] == []
    assert "b.example" not in response.content.decode()


def test_nothing_needs_attention(client_a, domain_a):
    response = client_a.get("/")
    assert not response.context["needs_attention"]
    assert "Nothing needs attention." in response.content.decode()


def test_dashboard_query_count_is_fixed(client_super, django_assert_max_num_queries):
    for i in range(30):
        Domain.objects.create(name=f"d{i}.example", max_mailboxes=1, active=i % 2 == 0)
    with django_assert_max_num_queries(12):
        client_super.get("/")


def test_totals_and_inactive_counts_are_current_on_every_view(client_super, client_a):
    assert client_super.get("/").context["summary"]["mailboxes"] == 4
    carol = factories.mailbox("carol@a.example")
    Mailbox.objects.filter(local_part="bob", domain__name="b.example").update(active=False)
    summary = client_super.get("/").context["summary"]
    assert summary["mailboxes"] == 5 and summary["mailboxes_inactive"] == 1
    assert client_a.get("/").context["summary"]["mailboxes"] == 3  # a.example only
    carol.delete()
    Alias.objects.filter(domain__name="a.example").delete()
    summary = client_super.get("/").context["summary"]
    assert summary["mailboxes"] == 4
    assert summary["aliases"] == Alias.objects.count()


def test_domains_without_mailboxes_newest_first_until_their_first_mailbox(client_super):
    def shown() -> list[str]:
        return [d.name for d in client_super.get("/").context["empty_domains"]]

    Domain.objects.create(name="older.example")
    Domain.objects.create(name="empty.example")
    Domain.objects.create(name="relayed.example", delivery="relay", transport="smtp:[mx]")
    assert shown() == ["empty.example", "older.example"]
    mailbox = factories.mailbox("first@empty.example")
    assert shown() == ["older.example"]
    mailbox.delete()
    assert shown() == ["empty.example", "older.example"]


@pytest.mark.parametrize(
    ("index", "table", "definition"),
    [
        (
            "domainusage_without_mailboxes",
            "domains_domainusage",
            "(domain_id) WHERE (mailboxes = 0)",
        ),
        ("domain_inactive_by_name", "domains_domain", "(name) WHERE (NOT active)"),
    ],
)
def test_dashboard_lists_read_partial_indexes(index, table, definition):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index])
            assert cursor.fetchone()[0].endswith(definition)
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [index])
            assert "WHERE" in cursor.fetchone()[0]
        else:  # MariaDB has no partial indexes
            assert index not in connection.introspection.get_constraints(cursor, table)


def test_inactive_counts_have_a_partial_index(client_super):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes"
                " WHERE tablename = 'mailboxes_mailbox' AND indexdef LIKE '%%WHERE%%'"
            )
            partial = dict(cursor.fetchall())
            # The local part in the key: a lookup's generic plan may pick this index too.
            assert list(partial) == ["mailbox_inactive_by_address"]
            assert (
                "(domain_id, local_part) WHERE (NOT active)"
                in partial["mailbox_inactive_by_address"]
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'mailbox_inactive_by_address'"
            )
            assert "WHERE NOT active" in cursor.fetchone()[0]
        else:  # MariaDB has no partial indexes, and a full domain_id index would mislead it
            indexes = connection.introspection.get_constraints(cursor, "mailboxes_mailbox")
            assert "mailbox_inactive_by_address" not in indexes
