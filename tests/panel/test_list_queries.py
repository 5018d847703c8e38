"""List pages run a fixed number of queries whatever the page size, and page without COUNT(*)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.services import record
from domains.models import Domain

pytestmark = pytest.mark.django_db


def make_domains(n: int, admin=None) -> None:
    Domain.objects.bulk_create(Domain(name=f"bulk{i:03}.example") for i in range(n))
    if admin is not None:
        admin.administered_domains.add(*Domain.objects.filter(name__startswith="bulk"))


def queries_for(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("url", ["/domains/", "/domains/?q=bulk&sort=-mailbox_count"])
def test_domain_list_queries_do_not_grow_with_the_page(client_super, url):
    make_domains(5)
    few = queries_for(client_super, url)
    Domain.objects.filter(name__startswith="bulk").delete()
    make_domains(60)
    many = queries_for(client_super, url)
    assert len(few) == len(many)
    # No paginator COUNT(*) over the whole table.
    assert not any('"__count"' in sql for sql in many)
    assert any("LIMIT 51" in sql for sql in many)


def test_domain_list_query_count_pinned(client_super, client_a, admin_a, django_assert_num_queries):
    make_domains(5)
    # session, user, the page's domain keys, those domains with their counts, the bytes
    # Dovecot reported for them
    with django_assert_num_queries(5):
        client_super.get("/domains/")
    Domain.objects.filter(name__startswith="bulk").delete()
    make_domains(60, admin=admin_a)
    with django_assert_num_queries(5) as captured:
        client_super.get("/domains/?page=2")
    # The counts and sums run for the shown page only, never for the rows OFFSET skips.
    keys, rows, used = (q["sql"] for q in captured.captured_queries[-3:])
    assert "OFFSET 50" in keys and "COUNT" not in keys.upper()
    assert "OFFSET" not in rows and "COUNT" in rows.upper()
    assert "OFFSET" not in used and "SUM(bytes)" in used
    # A domain admin costs one more: is_panel_admin checks they still have a domain.
    with django_assert_num_queries(6):
        client_a.get("/domains/")


def test_domain_list_pages(client_super):
    make_domains(60)
    first = client_super.get("/domains/?q=bulk")
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].has_next
    second = client_super.get("/domains/?q=bulk&page=2")
    assert second.context["page"].object_list[0].name == "bulk050.example"
    assert not second.context["page"].has_next
    assert 'rel="prev"' in second.content.decode()


def test_domain_list_counts_are_annotations(client_super):
    rows = {d.name: d for d in client_super.get("/domains/").context["page"]}
    assert rows["a.example"].mailbox_count == 2
    assert rows["a.example"].alias_count == 2


def test_domain_list_sorts(client_super):
    from tests.factories import domain

    domain("zz.example")
    names = [d.name for d in client_super.get("/domains/?sort=-name").context["page"]]
    assert names == sorted(names, reverse=True)
    by_count = [d.name for d in client_super.get("/domains/?sort=-mailbox_count").context["page"]]
    assert by_count[-1] == "zz.example"
    # An unknown sort key falls back to the name, never an error.
    assert client_super.get("/domains/?sort=password").status_code == 200


def test_search_as_you_type_returns_the_table_only(client_super, htmx):
    response = client_super.get("/domains/?q=b.ex", headers=htmx)
    body = response.content.decode()
    assert "<html" not in body
    assert "b.example" in body
    assert "a.example" not in body


def test_audit_list_queries_do_not_grow(client_super, django_assert_num_queries):
    for _ in range(5):
        record(actor=None, action="update", obj=None, domain="a.example")
    # session, user, the page's entries (no list of every domain's name for the filter)
    with django_assert_num_queries(3):
        client_super.get("/audit/")
    for _ in range(55):
        record(actor=None, action="update", obj=None, domain="a.example")
    with django_assert_num_queries(3):
        client_super.get("/audit/")


def test_admin_list_queries_do_not_grow(client_super, domain_a, django_assert_num_queries):
    users = get_user_model().objects
    for i in range(5):
        users.create_user(username=f"adm{i:02}").administered_domains.add(domain_a)
    with django_assert_num_queries(4):
        client_super.get("/accounts/admins/")
    for i in range(5, 60):
        users.create_user(username=f"adm{i:02}").administered_domains.add(domain_a)
    with django_assert_num_queries(4):
        client_super.get("/accounts/admins/")
