"""Quota usage as Dovecot reports it, in the panel: the mailbox list (bars, sort by usage, the
"over 90%" filter, with search and pages), the domain pages' sums, the dashboard's nearly full
mailboxes, for the three personas, with pinned query counts.

Dovecot is played by tests.dovecot_usage.report, the upsert its SQL dict sends; the table's
triggers fill in mailbox, domain and permille, so these tests also read what they computed.
"""

# Ukrainian text: its Cyrillic letters are meant.
# ruff: noqa: RUF001

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from domains.models import Domain
from mailadmin import passwords
from mailadmin.pagination import paginate_segments
from mailboxes.models import Mailbox, QuotaUsage
from mailboxes.paths import canonical_path
from mailboxes.selectors import mailbox_list_by_usage
from tests import factories
from tests.dovecot_usage import GiB, MiB, report

pytestmark = pytest.mark.django_db

# A mailbox row of the list: its checkbox cell, then the address cell.
ROW = r'<tr id="mailbox-\d+">\s*<td class="fit select"><input[^>]*></td>\s*<td[^>]*>%s@.*?</tr>'


def list_url(domain: str = "a.example") -> str:
    return reverse("mailboxes:mailbox_list", args=[domain])


def shown(client: Client, domain: str = "a.example", **params: str) -> list[str]:
    response = client.get(list_url(domain), params)
    assert response.status_code == 200
    return [m.local_part for m in response.context["page"]]


def set_quota(address: str, quota: int) -> None:
    local, domain = address.split("@")
    Mailbox.objects.filter(local_part=local, domain__name=domain).update(quota=quota)


def add_mailboxes(domain: Domain, names: list[str], quota: int = GiB) -> None:
    stored = passwords.hash_password(factories.PASSWORD)
    Mailbox.objects.bulk_create(
        Mailbox(
            domain=domain,
            local_part=name,
            password=stored,
            quota=quota,
            path=canonical_path(domain.name, name, "maildir"),
        )
        for name in names
    )


# --- the table and its model ---------------------------------------------------------------


def test_triggers_resolve_a_report_and_the_model_reads_it(domain_a: Domain) -> None:
    set_quota("alice@a.example", 2 * GiB)
    report("alice@a.example", GiB + GiB // 2, 120)
    usage = QuotaUsage.objects.select_related("mailbox").get(username="alice@a.example")
    assert usage.mailbox is not None and usage.mailbox.local_part == "alice"
    assert usage.domain_id == domain_a.pk
    assert (usage.bytes, usage.messages, usage.permille, usage.percent) == (
        3 * GiB // 2,
        120,
        750,
        75,
    )
    assert usage.mailbox_id is not None
    assert Mailbox.objects.get(pk=usage.mailbox_id).quota_usage == usage
    # The quota changes: the trigger computes permille again.
    set_quota("alice@a.example", 0)
    assert QuotaUsage.objects.get(pk="alice@a.example").permille is None


def test_nothing_in_python_writes_the_table(domain_a: Domain) -> None:
    report("alice@a.example", MiB)
    usage = QuotaUsage.objects.get()
    with pytest.raises(TypeError, match="Dovecot"):
        usage.save()
    with pytest.raises(TypeError, match="Dovecot"):
        usage.delete()
    # A mailbox deleted by the panel takes its row with it, by the database's own rules;
    # Django does not touch the table.
    with CaptureQueriesContext(connection) as captured:
        Mailbox.objects.get(local_part="alice", domain=domain_a).delete()
    assert not any("mailadmin_quota_usage" in q["sql"] for q in captured.captured_queries)
    assert not QuotaUsage.objects.exists()


# --- the mailbox list ------------------------------------------------------------------------


def test_the_list_shows_used_of_quota_unlimited_and_not_reported(client_a: Client) -> None:
    set_quota("alice@a.example", 2 * GiB)
    report("alice@a.example", GiB, 10)
    factories.mailbox("carol@a.example", quota=0)
    report("carol@a.example", 300 * MiB)
    body = client_a.get(list_url()).content.decode()
    alice = re.search(ROW % "alice", body, re.S)
    assert alice
    assert "1 GiB of 2 GiB (50%)" in alice.group(0)
    assert re.search(r'<meter [^>]*value="500" aria-label="Quota used">50%</meter>', alice.group(0))
    assert "300 MiB used, no limit" in body
    bob = re.search(ROW % "bob", body, re.S)
    assert bob and "not reported yet" in bob.group(0) and "<meter" not in bob.group(0)


def test_nearly_full_and_over_quota_say_so_in_words(client_a: Client) -> None:
    set_quota("alice@a.example", 1000 * MiB)
    set_quota("bob@a.example", 1000 * MiB)
    report("alice@a.example", 950 * MiB)
    report("bob@a.example", 1100 * MiB)
    body = client_a.get(list_url()).content.decode()
    assert "950 MiB of 1000 MiB (95%)" in body and "nearly full" in body
    assert "1.1 GiB of 1000 MiB (110%)" in body and "over quota" in body
    # The bar stops at full; the text tells how far over.
    assert 'value="1000" aria-label="Quota used">110%</meter>' in body


def _usage_world(domain: Domain) -> None:
    """In a.example: limited mailboxes at various shares, unlimited ones, unreported ones."""
    add_mailboxes(domain, ["l10", "l50", "l50b", "l95", "l120"], quota=1000 * MiB)
    add_mailboxes(domain, ["u1", "u9"], quota=0)
    add_mailboxes(domain, ["n1", "n2"], quota=1000 * MiB)  # never reported
    for name, used in [
        ("l10", 100),
        ("l50", 500),
        ("l50b", 500),
        ("l95", 950),
        ("l120", 1200),
        ("u1", 1),
        ("u9", 9000),
    ]:
        report(f"{name}@a.example", used * MiB)
    # alice and bob (the fixture's, 0 = no quota) have not been reported either.


FULLEST_FIRST = ["l120", "l95", "l50", "l50b", "l10", "u9", "u1", "alice", "bob", "n1", "n2"]
EMPTIEST_FIRST = ["l10", "l50", "l50b", "l95", "l120", "u1", "u9", "alice", "bob", "n1", "n2"]


def test_sort_by_usage_puts_the_unlimited_then_the_unreported_last(
    client_a: Client, domain_a: Domain
) -> None:
    _usage_world(domain_a)
    assert shown(client_a, sort="-usage") == FULLEST_FIRST
    assert shown(client_a, sort="usage") == EMPTIEST_FIRST
    # By address, the default, and for anything unknown.
    by_address = sorted(FULLEST_FIRST)
    assert shown(client_a) == by_address
    assert shown(client_a, sort="password") == by_address


@pytest.mark.parametrize("per_page", [1, 2, 3, 4, 5])
def test_pages_by_usage_cross_the_segments_without_a_gap(
    domain_a: Domain, admin_a, rf, per_page: int
) -> None:
    _usage_world(domain_a)
    seen: list[str] = []
    for number in range(1, 20):
        segments = mailbox_list_by_usage(user=admin_a, domain=domain_a)
        page = paginate_segments(rf.get("/", {"page": number}), segments, per_page)
        seen += [m.local_part for m in page]
        assert len(page) == per_page or not page.has_next
        if not page.has_next:
            break
    assert seen == FULLEST_FIRST


def test_over_90_filter_with_search_and_both_orders(client_a: Client, domain_a: Domain) -> None:
    _usage_world(domain_a)
    assert shown(client_a, full="1") == ["l120", "l95"]
    assert shown(client_a, full="1", sort="-usage") == ["l120", "l95"]
    assert shown(client_a, full="1", sort="usage") == ["l95", "l120"]
    assert shown(client_a, full="1", q="l9") == ["l95"]
    assert shown(client_a, q="l5", sort="-usage") == ["l50", "l50b"]
    assert shown(client_a, q="u", sort="usage") == ["u1", "u9"]
    body = client_a.get(list_url(), {"full": "1", "q": "nobody"}).content.decode()
    assert "No mailboxes match." in body


def test_pages_keep_the_filter_sort_and_search(client_a: Client, domain_a: Domain) -> None:
    names = [f"user{i:03d}" for i in range(60)]
    add_mailboxes(domain_a, names, quota=100 * MiB)
    for i, name in enumerate(names):
        report(f"{name}@a.example", (91 + i % 9) * MiB)
    first = client_a.get(list_url(), {"full": "1", "q": "user"})
    assert len(first.context["page"]) == 50
    # By address the cursor links keep the filter and the search ...
    assert 'href="?full=1&amp;q=user&amp;after=user049"' in first.content.decode()
    rest = shown(client_a, full="1", q="user", after="user049")
    assert rest == names[50:]
    # ... and by usage the page numbers do.
    by_usage = client_a.get(list_url(), {"full": "1", "sort": "-usage"})
    assert 'href="?full=1&amp;sort=-usage&amp;page=2"' in by_usage.content.decode()
    second = shown(client_a, full="1", sort="-usage", page="2")
    assert len(second) == 10
    assert set(second) | {m.local_part for m in by_usage.context["page"]} == set(names)


def test_sort_links_and_the_filter_form(client_a: Client, domain_a: Domain, htmx) -> None:
    _usage_world(domain_a)
    body = client_a.get(list_url(), {"full": "1"}).content.decode()
    # The usage heading sorts fullest first, keeping the filter; the address heading goes back.
    assert 'href="?full=1&amp;sort=-usage"' in body
    assert re.search(
        r'<input id="mailbox-full" type="checkbox" name="full" value="1" checked', body
    )
    body = client_a.get(list_url(), {"sort": "-usage"}).content.decode()
    assert 'aria-sort="descending"' in body and 'href="?sort=usage"' in body
    # The table ties the sort order to the search form, so a search keeps it.
    assert '<input type="hidden" name="sort" value="-usage" form="mailbox-search">' in body
    assert 'id="mailbox-search"' in body
    fragment = client_a.get(list_url(), {"sort": "usage"}, headers=htmx).content.decode()
    assert "<html" not in fragment and 'value="usage" form="mailbox-search"' in fragment


# --- the three personas -------------------------------------------------------------------


def test_each_admin_sees_the_usage_of_their_own_domains_only(
    client_a: Client, client_super: Client, domain_b: Domain
) -> None:
    report("alice@a.example", MiB)
    report("alice@b.example", 2 * MiB)
    assert client_a.get(list_url("b.example"), {"sort": "-usage"}).status_code == 404
    assert client_a.get(list_url("b.example"), {"full": "1"}).status_code == 404
    assert shown(client_super, "b.example", sort="-usage") == ["alice", "bob"]
    assert client_a.post(list_url(), {"sort": "-usage"}).status_code == 405


# --- query counts ----------------------------------------------------------------------------


def _world_of(domain: Domain, each: int) -> None:
    """`each` limited, `each` unlimited and `each` unreported mailboxes (plus alice and bob)."""
    add_mailboxes(domain, [f"l{i:03d}" for i in range(each)], quota=GiB)
    add_mailboxes(domain, [f"u{i:03d}" for i in range(each)], quota=0)
    add_mailboxes(domain, [f"n{i:03d}" for i in range(each)], quota=GiB)
    for i in range(each):
        report(f"l{i:03d}@a.example", (i + 1) * 10 * MiB)
        report(f"u{i:03d}@a.example", (i + 1) * MiB)


@pytest.mark.parametrize("each", [1, 20])  # 5 mailboxes against 62
@pytest.mark.parametrize(
    ("params", "queries"),
    [
        # session, user, admin check, domain, the page's rows (usage joined)
        ({}, 5),
        ({"full": "1"}, 5),
        ({"after": "l000"}, 5),
        # ... by usage: one query per segment the page shows: with a quota, without, unreported
        ({"sort": "-usage"}, 7),
        ({"sort": "usage", "q": "0"}, 7),
        # "over 90%" by usage is one segment
        ({"sort": "-usage", "full": "1"}, 5),
    ],
)
def test_list_query_count_does_not_grow_with_rows(
    client_a: Client, domain_a: Domain, each: int, params, queries, htmx, django_assert_num_queries
) -> None:
    _world_of(domain_a, each)
    with django_assert_num_queries(queries):
        response = client_a.get(list_url(), params, headers=htmx)
    assert response.status_code == 200
    # Never one query per row for the usage.
    assert "<html" not in response.content.decode()


def test_a_deep_page_by_usage_counts_only_the_segments_it_skips(
    client_a: Client, domain_a: Domain, django_assert_num_queries, htmx
) -> None:
    _world_of(domain_a, 60)
    # Page 3 (rows 101-150): all 60 with a quota are skipped (one COUNT), then the rows of
    # the second segment from its 41st on, and the third segment's first rows.
    with django_assert_num_queries(4 + 4) as captured:
        page = client_a.get(list_url(), {"sort": "-usage", "page": "3"}, headers=htmx)
    rows = [m.local_part for m in page.context["page"]]
    assert rows[:20] == [f"u{i:03d}" for i in range(19, -1, -1)]
    assert rows[20:] == ["alice", "bob"] + [f"n{i:03d}" for i in range(28)]
    assert sum("COUNT(" in q["sql"].upper() for q in captured.captured_queries) == 1


# --- domain pages ----------------------------------------------------------------------------


def test_domain_list_and_page_show_the_bytes_used(client_super: Client, domain_b) -> None:
    report("alice@a.example", 300 * MiB)
    report("bob@a.example", 200 * MiB)
    rows = {d.name: d for d in client_super.get("/domains/").context["page"]}
    assert rows["a.example"].used_bytes == 500 * MiB
    assert rows["b.example"].used_bytes is None
    body = client_super.get("/domains/").content.decode()
    row_a = re.search(r'<tr id="domain-\d+">.*?a\.example.*?</tr>', body, re.S)
    assert row_a and "500 MiB / 0 B" in row_a.group(0)
    row_b = re.search(r'<tr id="domain-\d+">.*?b\.example.*?</tr>', body, re.S)
    assert row_b and "not reported yet" in row_b.group(0)
    detail = client_super.get("/domains/a.example/").content.decode()
    assert re.search(r"<dt>Storage used</dt><dd>500 MiB</dd>", detail)


def test_domain_sums_are_scoped_and_read_for_the_page_only(
    client_a: Client, client_super: Client, domain_b
) -> None:
    report("alice@a.example", MiB)
    report("alice@b.example", 7 * MiB)
    mine = client_a.get("/domains/")
    assert [d.name for d in mine.context["page"]] == ["a.example"]
    assert "7 MiB" not in mine.content.decode()
    assert client_a.get("/domains/b.example/").status_code == 404
    for i in range(60):
        Domain.objects.create(name=f"bulk{i:03d}.example")
    with CaptureQueriesContext(connection) as captured:
        client_super.get("/domains/")
    sums = [q["sql"] for q in captured.captured_queries if "mailadmin_quota_usage" in q["sql"]]
    assert len(sums) == 1
    # The 50 domains of the page, not the 62 there are.
    assert sums[0].count(",") == 49 + 1  # 50 ids and "domain_id, SUM(bytes)"


@pytest.mark.parametrize("extra", [5, 60])
def test_domain_list_query_count_with_sums_is_pinned(
    client_super: Client, client_a: Client, admin_a, extra: int, django_assert_num_queries
) -> None:
    for i in range(extra):
        Domain.objects.create(name=f"bulk{i:03d}.example")
        admin_a.administered_domains.add(Domain.objects.get(name=f"bulk{i:03d}.example"))
    report("alice@a.example", MiB)
    # session, user, the page's domain keys, those domains with their counts, their sums
    with django_assert_num_queries(5):
        client_super.get("/domains/")
    with django_assert_num_queries(6):  # a domain admin: is_panel_admin's check too
        client_a.get("/domains/")


# --- dashboard -------------------------------------------------------------------------------


def test_dashboard_lists_the_fullest_mailboxes_scoped(
    client_super: Client, client_a: Client, domain_b
) -> None:
    for address in ("alice@a.example", "bob@a.example", "alice@b.example", "bob@b.example"):
        set_quota(address, 1000 * MiB)
    report("alice@a.example", 920 * MiB)
    report("bob@a.example", 500 * MiB)  # below 90%: not listed
    report("alice@b.example", 990 * MiB)
    report("bob@b.example", 1500 * MiB)
    everything = client_super.get("/")
    listed = [m.address for m in everything.context["nearly_full"]]
    assert listed == ["bob@b.example", "alice@b.example", "alice@a.example"]
    assert everything.context["needs_attention"]
    body = everything.content.decode()
    assert 'href="/domains/b.example/mailboxes/?full=1&amp;sort=-usage">bob@b.example</a>' in body
    assert "1.5 GiB of 1000 MiB (150%)" in body
    mine = client_a.get("/")
    assert [m.address for m in mine.context["nearly_full"]] == ["alice@a.example"]
    assert "b.example" not in mine.content.decode()


def test_dashboard_shows_a_few_and_says_there_are_more(client_super: Client, domain_a) -> None:
    names = [f"full{i}" for i in range(8)]
    add_mailboxes(domain_a, names, quota=1000 * MiB)
    for i, name in enumerate(names):
        report(f"{name}@a.example", (900 + i) * MiB)
    response = client_super.get("/")
    assert [m.local_part for m in response.context["nearly_full"]] == [
        "full7",
        "full6",
        "full5",
        "full4",
        "full3",
    ]
    assert "each domain’s mailbox list, filtered “Over 90% full”" in response.content.decode()


def test_dashboard_query_count_does_not_grow_with_full_mailboxes(
    client_super: Client, client_a: Client, domain_a, django_assert_num_queries
) -> None:
    add_mailboxes(domain_a, [f"x{i}" for i in range(3)], quota=MiB)
    for i in range(3):
        report(f"x{i}@a.example", MiB)
    # The nearly full mailboxes are one query; a domain admin's domains one more, read
    # first for it (mailboxes_nearly_full says why), after is_panel_admin's check.
    with django_assert_num_queries(11):
        client_super.get("/")
    with django_assert_num_queries(13):
        client_a.get("/")
    add_mailboxes(domain_a, [f"y{i}" for i in range(40)], quota=MiB)
    for i in range(40):
        report(f"y{i}@a.example", MiB)
    with django_assert_num_queries(11):
        client_super.get("/")
    with django_assert_num_queries(13) as captured:
        client_a.get("/")
    nearly_full = [q["sql"] for q in captured.captured_queries if "permille" in q["sql"]]
    assert len(nearly_full) == 1 and f"IN ({domain_a.pk})" in nearly_full[0]


# --- Ukrainian -------------------------------------------------------------------------------


def test_usage_in_ukrainian(client_super: Client, domain_a: Domain) -> None:
    client_super.cookies["django_language"] = "uk"
    set_quota("alice@a.example", 1000 * MiB)
    report("alice@a.example", 950 * MiB)
    factories.mailbox("carol@a.example", quota=0)
    report("carol@a.example", 3 * MiB)
    listing = client_super.get(list_url(), {"sort": "-usage"}).content.decode()
    for words in (
        "Використання",
        "Заповнені понад 90%",
        "950 MiB з 1000 MiB (95%)",
        "майже заповнена",
        "використано 3 MiB, без ліміту",
        "даних ще немає",
        "Спершу найменш заповнені",
    ):
        assert words in listing, words
    dashboard = client_super.get("/").content.decode()
    assert "Майже заповнені скриньки (90% квоти і більше)" in dashboard
    detail = client_super.get("/domains/a.example/").content.decode()
    assert "Використано місця" in detail
    domains = client_super.get("/domains/").content.decode()
    assert "Використано місця / виділено квоти" in domains and "даних ще немає" in domains
