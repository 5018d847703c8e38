"""Mailbox pages of one domain, for the three personas: works, 404 for a foreign object,
wrong method, htmx fragment against full page, query counts, and bad input changing nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from domains.models import Domain
from mailadmin import passwords
from mailboxes.models import Mailbox
from mailboxes.paths import canonical_path as mailbox_path
from tests import factories

pytestmark = pytest.mark.django_db

# The methods each member URL answers; any other is 405, before the mailbox is looked up.
MEMBER_METHODS = {
    "mailbox_edit": {"get", "post"},
    "mailbox_password": {"get", "post"},
    "mailbox_toggle": {"post"},
    "mailbox_delete": {"get", "post"},
    "mailbox_row": {"get"},
}
MEMBER_URLS = tuple(MEMBER_METHODS)


def url(name: str, domain: str, *args: object) -> str:
    return reverse(f"mailboxes:{name}", args=[domain, *args])


def mailbox(domain: str, local: str) -> Mailbox:
    return Mailbox.objects.get(domain__name=domain, local_part=local)


def snapshot(domain: str = "a.example") -> list[tuple]:
    """Everything a write could change, to prove that bad input changed nothing."""
    return list(
        Mailbox.objects.filter(domain__name=domain)
        .order_by("pk")
        .values_list("local_part", "name", "password", "quota", "uid", "gid", "active")
    )


def bulk_mailboxes(domain: Domain, count: int) -> None:
    """Many rows at once: one real hash shared, as an import would store them."""
    stored = passwords.hash_password(factories.PASSWORD)
    Mailbox.objects.bulk_create(
        Mailbox(
            domain=domain,
            local_part=f"user{i:03d}",
            password=stored,
            path=mailbox_path(domain.name, f"user{i:03d}", "maildir"),
        )
        for i in range(count)
    )


# --- list ---------------------------------------------------------------------------------------


def test_list_shows_the_domains_mailboxes(client_a: Client) -> None:
    response = client_a.get(url("mailbox_list", "a.example"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "alice@a.example" in body and "bob@a.example" in body
    assert "<html" in body


def test_superadmin_sees_any_domain(client_super: Client) -> None:
    assert client_super.get(url("mailbox_list", "b.example")).status_code == 200


def test_list_of_a_foreign_domain_is_404(client_a: Client) -> None:
    assert client_a.get(url("mailbox_list", "b.example")).status_code == 404
    assert client_a.get(url("mailbox_list", "nowhere.example")).status_code == 404


def test_anonymous_goes_to_login(client: Client, domain_a: Domain) -> None:
    response = client.get(url("mailbox_list", "a.example"))
    assert response.status_code == 302
    assert (
        response["Location"]
        == f"{reverse('accounts:login')}?next={url('mailbox_list', 'a.example')}"
    )


def test_search_plain_get_and_htmx_fragment(client_a: Client, htmx: dict[str, str]) -> None:
    page = client_a.get(url("mailbox_list", "a.example"), {"q": "ali"}).content.decode()
    assert "alice@a.example" in page and "bob@a.example" not in page
    fragment = client_a.get(url("mailbox_list", "a.example"), {"q": "bob"}, headers=htmx)
    body = fragment.content.decode()
    assert "<html" not in body and "<table" in body
    assert "bob@a.example" in body and "alice@a.example" not in body
    full = client_a.get(url("mailbox_list", "a.example"), {"q": "Alice@a.example"}).content.decode()
    assert "alice@a.example" in full and "bob@a.example" not in full


def test_list_paginates_without_counting_the_table(client_a: Client, domain_a: Domain) -> None:
    bulk_mailboxes(domain_a, 60)
    first = client_a.get(url("mailbox_list", "a.example")).content.decode()
    assert 'rel="next"' in first
    second = client_a.get(url("mailbox_list", "a.example"), {"page": 2}).content.decode()
    assert "user059@a.example" in second and 'rel="prev"' in second


def test_next_page_by_local_part_cursor(client_a: Client, domain_a: Domain) -> None:
    # alice, bob and user000..user059: the first page ends at user047.
    bulk_mailboxes(domain_a, 60)
    first = client_a.get(url("mailbox_list", "a.example"))
    assert first.context["page"].next_cursor == "user047"
    assert 'href="?after=user047"' in first.content.decode()
    second = client_a.get(url("mailbox_list", "a.example"), {"after": "user047"})
    body = second.content.decode()
    rows = [m.local_part for m in second.context["page"]]
    assert rows == [f"user{i:03d}" for i in range(48, 60)]
    assert "user047@a.example" not in body and 'rel="next"' not in body
    assert 'href="?before=user048"' in body
    back = client_a.get(url("mailbox_list", "a.example"), {"before": "user048"}).context["page"]
    assert [m.local_part for m in back][:2] == ["alice", "bob"] and len(back) == 50
    assert back.has_next and not back.has_previous


def test_cursor_keeps_the_search_and_htmx_gets_the_table(
    client_a: Client, domain_a: Domain, htmx: dict[str, str]
) -> None:
    bulk_mailboxes(domain_a, 120)
    first = client_a.get(url("mailbox_list", "a.example"), {"q": "user0"}).content.decode()
    # user000..user099 match: the search stays in the cursor links.
    assert 'href="?q=user0&amp;after=user049"' in first
    fragment = client_a.get(
        url("mailbox_list", "a.example"), {"q": "user0", "after": "user050"}, headers=htmx
    )
    body = fragment.content.decode()
    assert "<html" not in body and "<table" in body
    rows = [m.local_part for m in fragment.context["page"]]
    assert rows == [f"user{i:03d}" for i in range(51, 100)]
    assert 'hx-get="?q=user0&amp;before=user051"' in body
    assert 'rel="next"' not in body


@pytest.mark.parametrize("extra", [3, 58])  # 5 rows against 60 rows
def test_list_query_count_does_not_grow_with_rows(
    client_a: Client, domain_a: Domain, extra: int, django_assert_num_queries
) -> None:
    bulk_mailboxes(domain_a, extra)
    # session, user, admin check, domain, the page's rows, the domain's totals
    with django_assert_num_queries(6):
        response = client_a.get(url("mailbox_list", "a.example"))
    assert response.status_code == 200


@pytest.mark.parametrize("extra", [3, 58])
def test_list_fragment_query_count_does_not_grow_with_rows(
    client_a: Client, domain_a: Domain, extra: int, htmx, django_assert_num_queries
) -> None:
    bulk_mailboxes(domain_a, extra)
    with django_assert_num_queries(5):
        client_a.get(url("mailbox_list", "a.example"), headers=htmx)


@pytest.mark.parametrize("extra", [3, 58])
def test_cursor_page_query_count_does_not_grow_with_rows(
    client_a: Client, domain_a: Domain, extra: int, django_assert_num_queries
) -> None:
    bulk_mailboxes(domain_a, extra)
    with django_assert_num_queries(6):
        assert client_a.get(url("mailbox_list", "a.example"), {"after": "bob"}).status_code == 200
    with django_assert_num_queries(6):
        assert client_a.get(url("mailbox_list", "a.example"), {"before": "z"}).status_code == 200


def test_idn_domain_and_limits_shown(client_super: Client) -> None:
    factories.domain("bücher.example", max_mailboxes=10)
    factories.mailbox("jan@xn--bcher-kva.example")
    body = client_super.get(url("mailbox_list", "xn--bcher-kva.example")).content.decode()
    assert "jan@bücher.example" in body
    assert "1 of at most 10 mailboxes" in body
    # The Unicode form in the URL names the same domain.
    assert client_super.get(url("mailbox_list", "bücher.example")).status_code == 200


# --- 404 and methods for every member URL ------------------------------------------------------


@pytest.mark.parametrize("name", MEMBER_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_foreign_mailbox_is_404_everywhere(client_a: Client, name: str, method: str) -> None:
    foreign = mailbox("b.example", "alice")
    before = snapshot("b.example")
    # Through the other domain's URL, and smuggled into one's own domain's URL.
    expected = 404 if method in MEMBER_METHODS[name] else 405
    for domain in ("b.example", "a.example"):
        response = getattr(client_a, method)(url(name, domain, foreign.pk))
        assert response.status_code == expected, (domain, response.status_code)
    assert snapshot("b.example") == before


@pytest.mark.parametrize(
    "name", ["mailbox_edit", "mailbox_password", "mailbox_toggle", "mailbox_delete"]
)
def test_foreign_mailbox_post_is_404(client_a: Client, name: str) -> None:
    foreign = mailbox("b.example", "alice")
    before = snapshot("b.example")
    assert client_a.post(url(name, "a.example", foreign.pk)).status_code == 404
    assert client_a.post(url(name, "b.example", foreign.pk)).status_code == 404
    assert snapshot("b.example") == before


def test_create_in_a_foreign_domain_is_404(client_a: Client) -> None:
    before = snapshot("b.example")
    response = client_a.post(
        url("mailbox_create", "b.example"),
        {"local_part": "intruder", "password_mode": "generate", "storage_format": "maildir"},
    )
    assert response.status_code == 404
    assert snapshot("b.example") == before


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("mailbox_list", "post"),
        ("mailbox_create", "put"),
        ("mailbox_create", "delete"),
        ("mailbox_toggle", "get"),
        ("mailbox_edit", "put"),
        ("mailbox_password", "delete"),
        ("mailbox_delete", "put"),
        ("mailbox_row", "post"),
    ],
)
def test_wrong_method_is_405(client_a: Client, name: str, method: str) -> None:
    args = [] if name in ("mailbox_list", "mailbox_create") else [mailbox("a.example", "alice").pk]
    before = snapshot()
    assert getattr(client_a, method)(url(name, "a.example", *args)).status_code == 405
    assert snapshot() == before


# --- create --------------------------------------------------------------------------------------


def test_create_with_generated_password_shows_it_once(client_a: Client) -> None:
    response = client_a.post(
        url("mailbox_create", "a.example"),
        {
            "local_part": "Carol",
            "name": "Carol",
            "password_mode": "generate",
            "quota": "2G",
            "storage_format": "maildir",
        },
    )
    assert response.status_code == 200
    created = mailbox("a.example", "carol")
    assert created.quota == 2 * 1024**3
    assert created.path == "a.example/carol/"
    password = response.context["password"]
    assert len(password) >= 16 and password in response.content.decode()
    assert passwords.verify_password(password, created.password)
    # Nothing shows it again.
    assert password not in client_a.get(url("mailbox_list", "a.example")).content.decode()


def test_create_with_typed_password_redirects(client_a: Client) -> None:
    response = client_a.post(
        url("mailbox_create", "a.example"),
        {
            "local_part": "dan",
            "password_mode": "type",
            "password": "a typed password 1",
            "storage_format": "mbox",
        },
    )
    assert response.status_code == 302
    created = mailbox("a.example", "dan")
    assert created.path == "a.example/dan/mbox"
    assert passwords.verify_password("a typed password 1", created.password)


def test_create_htmx_returns_the_fragment_and_tells_the_table(client_a: Client, htmx) -> None:
    response = client_a.post(
        url("mailbox_create", "a.example"),
        {"local_part": "erin", "password_mode": "generate", "storage_format": "maildir"},
        headers=htmx,
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="generated-password"' in body
    assert "mailboxes-changed" in response["HX-Trigger"]
    assert 'hx-swap-oob="true"' in body  # the success message, out of band


def test_create_form_page_and_fragment(client_a: Client, htmx) -> None:
    page = client_a.get(url("mailbox_create", "a.example")).content.decode()
    fragment = client_a.get(url("mailbox_create", "a.example"), headers=htmx).content.decode()
    assert "<html" in page and "<html" not in fragment
    assert 'name="local_part"' in fragment
    # Only a superadmin decides who owns delivered mail.
    assert 'name="uid"' not in fragment


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"local_part": "bad address", "password_mode": "generate"}, "local_part"),
        ({"local_part": "-x", "password_mode": "generate"}, "local_part"),
        ({"local_part": "alice", "password_mode": "generate"}, "local_part"),  # exists
        ({"local_part": "new", "password_mode": "type", "password": ""}, "password"),
        ({"local_part": "new", "password_mode": "type", "password": "short"}, "password"),
        ({"local_part": "new", "password_mode": "generate", "quota": "lots"}, "quota"),
        (
            {"local_part": "new", "password_mode": "generate", "storage_format": "zip"},
            "storage_format",
        ),
    ],
)
def test_create_bad_input_is_shown_inline_and_changes_nothing(
    client_a: Client, htmx, data: dict[str, str], field: str
) -> None:
    data = {"storage_format": "maildir", **data}
    before = snapshot()
    for headers in (dict[str, str](), htmx):
        response = client_a.post(url("mailbox_create", "a.example"), data, headers=headers)
        assert response.status_code == 200
        assert response.context["form"].errors.get(field), response.context["form"].errors
        assert 'class="errorlist' in response.content.decode()
    assert snapshot() == before


def test_domain_limits_are_shown_inline(client_super: Client) -> None:
    Domain.objects.filter(name="a.example").update(max_mailboxes=2, max_mailbox_quota=1024**3)
    before = snapshot()
    response = client_super.post(
        url("mailbox_create", "a.example"),
        {"local_part": "third", "password_mode": "generate", "storage_format": "maildir"},
    )
    assert "already has its maximum of 2 mailboxes" in response.content.decode()
    Domain.objects.filter(name="a.example").update(max_mailboxes=0)
    response = client_super.post(
        url("mailbox_create", "a.example"),
        {
            "local_part": "third",
            "password_mode": "generate",
            "quota": "2G",
            "storage_format": "maildir",
        },
    )
    assert "allows at most 1 GiB per mailbox" in response.content.decode()
    assert snapshot() == before


def test_superadmin_sets_the_owner_ids(client_super: Client) -> None:
    client_super.post(
        url("mailbox_create", "a.example"),
        {
            "local_part": "owned",
            "password_mode": "generate",
            "storage_format": "maildir",
            "uid": "3000",
            "gid": "3001",
        },
    )
    created = mailbox("a.example", "owned")
    assert (created.uid, created.gid) == (3000, 3001)


def test_owner_id_below_the_minimum_is_refused(client_super: Client) -> None:
    before = snapshot()
    response = client_super.post(
        url("mailbox_create", "a.example"),
        {
            "local_part": "root",
            "password_mode": "generate",
            "storage_format": "maildir",
            "uid": "5",
        },
    )
    assert response.context["form"].errors.get("uid")
    assert snapshot() == before


def test_domain_admin_cannot_set_owner_ids(client_a: Client) -> None:
    client_a.post(
        url("mailbox_create", "a.example"),
        {
            "local_part": "sneaky",
            "password_mode": "generate",
            "storage_format": "maildir",
            "uid": "3000",
        },
    )
    assert mailbox("a.example", "sneaky").uid is None


# --- edit ----------------------------------------------------------------------------------------


def test_edit_page_and_inline_row(client_a: Client, htmx) -> None:
    alice = mailbox("a.example", "alice")
    page = client_a.get(url("mailbox_edit", "a.example", alice.pk)).content.decode()
    assert "<html" in page and 'name="quota"' in page
    row = client_a.get(url("mailbox_edit", "a.example", alice.pk), headers=htmx).content.decode()
    assert row.lstrip().startswith("<tr") and "<html" not in row


def test_edit_changes_name_and_quota(client_a: Client, htmx) -> None:
    alice = mailbox("a.example", "alice")
    response = client_a.post(
        url("mailbox_edit", "a.example", alice.pk),
        {"name": "Alice L.", "quota": "500M"},
        headers=htmx,
    )
    assert response.status_code == 200
    assert f'id="mailbox-{alice.pk}"' in response.content.decode()
    alice.refresh_from_db()
    assert (alice.name, alice.quota) == ("Alice L.", 500 * 1024**2)


def test_edit_without_js_redirects(client_a: Client) -> None:
    alice = mailbox("a.example", "alice")
    response = client_a.post(url("mailbox_edit", "a.example", alice.pk), {"name": "A", "quota": ""})
    assert response.status_code == 302
    assert response["Location"] == url("mailbox_list", "a.example")
    alice.refresh_from_db()
    assert (alice.name, alice.quota) == ("A", 0)  # an empty quota is no limit
    assert "Mailbox alice@a.example saved." in client_a.get(response["Location"]).content.decode()


def test_untouched_quota_stays_exact(client_a: Client) -> None:
    alice = mailbox("a.example", "alice")
    Mailbox.objects.filter(pk=alice.pk).update(quota=1_000_000)  # shown as 976.6 KiB
    client_a.post(url("mailbox_edit", "a.example", alice.pk), {"name": "A", "quota": "976.6 KiB"})
    alice.refresh_from_db()
    assert alice.quota == 1_000_000 and alice.name == "A"


@pytest.mark.parametrize("quota", ["lots", "-1G"])
def test_edit_bad_quota_changes_nothing(client_a: Client, htmx, quota: str) -> None:
    alice = mailbox("a.example", "alice")
    before = snapshot()
    response = client_a.post(
        url("mailbox_edit", "a.example", alice.pk),
        {"name": "Changed", "quota": quota},
        headers=htmx,
    )
    assert response.status_code == 200
    assert response.context["form"].errors.get("quota")
    assert snapshot() == before


def test_edit_quota_over_the_domain_limit_changes_nothing(client_a: Client) -> None:
    Domain.objects.filter(name="a.example").update(max_mailbox_quota=1024**3)
    alice = mailbox("a.example", "alice")
    before = snapshot()
    response = client_a.post(
        url("mailbox_edit", "a.example", alice.pk), {"name": "X", "quota": "5G"}
    )
    assert "allows at most 1 GiB per mailbox" in response.content.decode()
    assert snapshot() == before


def test_superadmin_clears_an_owner_override(client_super: Client) -> None:
    alice = mailbox("a.example", "alice")
    Mailbox.objects.filter(pk=alice.pk).update(uid=3000, gid=3000)
    client_super.post(
        url("mailbox_edit", "a.example", alice.pk),
        {"name": "", "quota": "", "uid": "", "gid": "3100"},
    )
    alice.refresh_from_db()
    assert (alice.uid, alice.gid) == (None, 3100)


# --- password ------------------------------------------------------------------------------------


def test_password_reset_generated_is_shown_once(client_a: Client, htmx) -> None:
    alice = mailbox("a.example", "alice")
    response = client_a.post(
        url("mailbox_password", "a.example", alice.pk), {"password_mode": "generate"}, headers=htmx
    )
    password = response.context["password"]
    assert password in response.content.decode()
    alice.refresh_from_db()
    assert passwords.verify_password(password, alice.password)
    assert not passwords.verify_password(factories.PASSWORD, alice.password)


def test_password_reset_typed(client_a: Client) -> None:
    alice = mailbox("a.example", "alice")
    response = client_a.post(
        url("mailbox_password", "a.example", alice.pk),
        {"password_mode": "type", "password": "another long one"},
    )
    assert response.status_code == 302
    assert response["Location"] == url("mailbox_list", "a.example")
    alice.refresh_from_db()
    assert passwords.verify_password("another long one", alice.password)


def test_password_reset_full_page_shows_generated(client_a: Client) -> None:
    alice = mailbox("a.example", "alice")
    page = client_a.get(url("mailbox_password", "a.example", alice.pk)).content.decode()
    assert "<html" in page
    response = client_a.post(
        url("mailbox_password", "a.example", alice.pk), {"password_mode": "generate"}
    )
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert response.context["password"] in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"password_mode": "type", "password": "short"}, "password", "at least 8 characters"),
        ({"password_mode": "type"}, "password", "Type the password, or let mailadmin generate"),
        ({"password_mode": "x"}, "password_mode", "Select a valid choice."),
    ],
)
def test_password_reset_bad_input_changes_nothing(
    client_a: Client, htmx, data, field: str, message: str
) -> None:
    alice = mailbox("a.example", "alice")
    before = snapshot()
    for headers in (dict[str, str](), htmx):
        response = client_a.post(
            url("mailbox_password", "a.example", alice.pk), data, headers=headers
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert list(errors) == [field], errors
        assert message in errors[field][0]
    assert snapshot() == before


# --- toggle, delete, row -------------------------------------------------------------------------


def test_toggle_disables_and_enables(client_a: Client, htmx) -> None:
    alice = mailbox("a.example", "alice")
    response = client_a.post(url("mailbox_toggle", "a.example", alice.pk), headers=htmx)
    assert response.status_code == 200
    assert "Enable" in response.content.decode()
    assert not mailbox("a.example", "alice").active
    response = client_a.post(url("mailbox_toggle", "a.example", alice.pk))
    assert response.status_code == 302
    assert mailbox("a.example", "alice").active


def test_delete_confirms_then_deletes(client_a: Client, htmx) -> None:
    alice = mailbox("a.example", "alice")
    bob = mailbox("a.example", "bob")
    page = client_a.get(url("mailbox_delete", "a.example", alice.pk)).content.decode()
    assert "Delete the mailbox alice@a.example?" in page
    assert Mailbox.objects.filter(pk=alice.pk).exists()
    assert client_a.post(url("mailbox_delete", "a.example", alice.pk)).status_code == 302
    assert not Mailbox.objects.filter(pk=alice.pk).exists()
    response = client_a.post(url("mailbox_delete", "a.example", bob.pk), headers=htmx)
    assert response.status_code == 200 and "<tr" not in response.content.decode()
    assert not Mailbox.objects.filter(pk=bob.pk).exists()


def test_row_is_a_fragment_for_htmx_and_a_redirect_otherwise(client_a: Client, htmx) -> None:
    alice = mailbox("a.example", "alice")
    response = client_a.get(url("mailbox_row", "a.example", alice.pk))
    assert (response.status_code, response["Location"]) == (302, url("mailbox_list", "a.example"))
    row = client_a.get(url("mailbox_row", "a.example", alice.pk), headers=htmx).content.decode()
    assert f'id="mailbox-{alice.pk}"' in row
