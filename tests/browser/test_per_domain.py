"""A superadmin manages one domain in the real Chromium: a mailbox with a generated password
(read once from the page), an alias, a catch-all, an alias domain, inline edits and search."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from domains.models import AliasDomain
from mailadmin import passwords
from mailboxes.models import Alias, Mailbox
from tests import factories
from tests.browser.conftest import login_admin, screenshot


def log_in(page: Page, user) -> None:
    login_admin(page, user, factories.PASSWORD)
    # The login page's own URL also ends with "/": wait for the logged-in page itself.
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


pytestmark = pytest.mark.django_db(transaction=True)

DOMAIN = "shop.example"


@pytest.fixture
def superadmin(transactional_db):
    factories.domain(DOMAIN, description="The shop")
    return get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)


def test_superadmin_builds_a_domain(page: Page, superadmin) -> None:
    log_in(page, superadmin)

    # A mailbox with a generated password, shown once.
    page.goto(f"/domains/{DOMAIN}/mailboxes/")
    page.get_by_role("link", name="New mailbox").click()
    form = page.locator("#mailbox-create form")
    form.get_by_label("Address").fill("john")
    form.get_by_label("Display name").fill("John Doe")
    form.get_by_label("Quota").fill("2G")
    form.get_by_role("button", name="Create mailbox").click()
    secret = page.locator("#generated-password")
    expect(secret).to_be_visible()
    password = secret.inner_text().strip()
    assert len(password) >= 16
    john = Mailbox.objects.get(domain__name=DOMAIN, local_part="john")
    assert passwords.verify_password(password, john.password)
    assert john.quota == 2 * 1024**3
    # The table reloads itself with the new row; the password is not in it.
    row = page.locator(f"#mailbox-{john.pk}")
    expect(row).to_contain_text("john@shop.example")
    expect(row).to_contain_text("2 GiB")
    factories.mailbox(f"mary@{DOMAIN}", name="Mary")
    page.goto(f"/domains/{DOMAIN}/mailboxes/")
    assert password not in page.content()
    screenshot(page, "mailbox-list")

    # An alias and a catch-all.
    page.goto(f"/domains/{DOMAIN}/aliases/")
    page.get_by_role("link", name="New alias").click()
    form = page.locator("#alias-create form")
    form.get_by_label("Address").fill("team")
    form.get_by_label("Destinations").fill("john@shop.example\nmary@shop.example")
    form.get_by_role("button", name="Create alias").click()
    team = page.locator("#alias-table tr", has_text="team@shop.example")
    expect(team).to_contain_text("john@shop.example, mary@shop.example")
    page.get_by_role("link", name="Set up a catch-all").click()
    form = page.locator("#alias-create form")
    expect(form.get_by_label("Catch-all")).to_be_checked()
    form.get_by_label("Destinations").fill("john@shop.example")
    form.get_by_role("button", name="Create alias").click()
    expect(page.locator("#alias-table")).to_contain_text("catch-all")
    assert Alias.objects.get(domain__name=DOMAIN, local_part="").active
    page.reload()
    expect(page.locator("#catchall")).to_contain_text("john@shop.example")
    screenshot(page, "alias-list")

    # An alias domain.
    page.goto(f"/domains/{DOMAIN}/alias-domains/")
    page.get_by_role("link", name="New alias domain").click()
    form = page.locator("#aliasdomain-create form")
    form.get_by_label("Alias domain").fill("shop-alias.example")
    form.get_by_role("button", name="Create alias domain").click()
    expect(page.locator("#aliasdomain-table")).to_contain_text("shop-alias.example")
    assert AliasDomain.objects.get(name="shop-alias.example").target.name == DOMAIN
    screenshot(page, "aliasdomain-list")


def test_inline_edit_toggle_and_search(page: Page, superadmin) -> None:
    for local in ("anna", "boris", "clara"):
        factories.mailbox(f"{local}@{DOMAIN}")
    log_in(page, superadmin)
    page.goto(f"/domains/{DOMAIN}/mailboxes/")
    url_before = page.url

    # Search as you type: the table narrows without a page load.
    page.get_by_label("Search mailboxes").fill("bor")
    table = page.locator("#mailbox-table")
    expect(table).not_to_contain_text("anna@shop.example")
    expect(table).to_contain_text("boris@shop.example")
    page.get_by_label("Search mailboxes").fill("")
    expect(table).to_contain_text("anna@shop.example")

    # Inline edit: the row becomes a form, and a row again.
    anna = Mailbox.objects.get(domain__name=DOMAIN, local_part="anna")
    row = page.locator(f"#mailbox-{anna.pk}")
    row.get_by_role("link", name="Edit").click()
    row.get_by_label("Quota").fill("lots")
    row.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("is not a size")
    row.get_by_label("Quota").fill("500M")
    row.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("500 MiB")
    expect(page.locator("#messages")).to_contain_text("Mailbox anna@shop.example saved.")

    # Disable inline.
    row.get_by_role("button", name="Disable").click()
    expect(row).to_contain_text("disabled")
    assert not Mailbox.objects.get(pk=anna.pk).active
    assert re.sub(r"\?.*$", "", page.url) == re.sub(r"\?.*$", "", url_before)


def test_password_reset_and_delete_inline(page: Page, superadmin) -> None:
    factories.mailbox(f"anna@{DOMAIN}")
    factories.mailbox(f"boris@{DOMAIN}")
    anna = Mailbox.objects.get(domain__name=DOMAIN, local_part="anna")
    boris = Mailbox.objects.get(domain__name=DOMAIN, local_part="boris")
    log_in(page, superadmin)
    page.goto(f"/domains/{DOMAIN}/mailboxes/")

    # A new generated password, shown once in the row.
    row = page.locator(f"#mailbox-{anna.pk}")
    row.get_by_role("link", name="Password").click()
    row.get_by_role("button", name="Set password").click()
    secret = row.locator("#generated-password")
    expect(secret).to_be_visible()
    new_password = secret.inner_text().strip()
    anna.refresh_from_db()
    assert passwords.verify_password(new_password, anna.password)
    row.get_by_role("link", name="Done").click()
    expect(row).to_contain_text("anna@shop.example")
    expect(row.locator("#generated-password")).to_have_count(0)

    # Delete asks first; dismissing keeps the mailbox, accepting removes the row.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator(f"#mailbox-{boris.pk}").get_by_role("link", name="Delete").click()
    expect(page.locator(f"#mailbox-{boris.pk}")).to_have_count(1)
    assert Mailbox.objects.filter(pk=boris.pk).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#mailbox-{boris.pk}").get_by_role("link", name="Delete").click()
    expect(page.locator(f"#mailbox-{boris.pk}")).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text("Mailbox boris@shop.example deleted")
    assert not Mailbox.objects.filter(pk=boris.pk).exists()
