"""The address trace in the real Chromium explains a catch-all."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from domains.models import ServerSettings
from tests import factories
from tests.browser.conftest import login_admin, screenshot


def log_in(page: Page, user) -> None:
    login_admin(page, user, factories.PASSWORD)
    # The login page's own URL also ends with "/": wait for the logged-in page itself.
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


pytestmark = pytest.mark.django_db(transaction=True)


def test_trace_explains_a_catchall(page: Page, transactional_db) -> None:
    # A transactional test starts from flushed tables: the migration's defaults row is gone.
    ServerSettings.load()
    factories.domain("shop.example")
    factories.mailbox("john@shop.example")
    factories.alias("@shop.example", "john@shop.example")
    admin = factories.domain_admin("shopadmin", factories.domain("other.example"))
    admin.administered_domains.add(
        *admin.administered_domains.model.objects.filter(name="shop.example")
    )
    log_in(page, admin)

    page.goto("/trace/")
    page.get_by_label("Address").fill("nobody@shop.example")
    page.get_by_role("button", name="Trace").click()
    trace = page.locator("#trace")
    expect(trace).to_contain_text(
        "Accepted: the catch-all @shop.example answers in virtual_alias_maps."
    )
    expect(trace).to_contain_text(
        "nobody@shop.example has no entry of its own; the catch-all @shop.example rewrites it "
        "to john@shop.example."
    )
    expect(trace).to_contain_text("Dovecot LMTP delivers to the Maildir")
    assert "address=nobody%40shop.example" in page.url or "address=nobody@shop.example" in page.url
    screenshot(page, "trace")

    # Someone else's domain: a clear refusal and nothing else.
    factories.domain("foreign.example")
    page.get_by_label("Address").fill("x@foreign.example")
    page.get_by_role("button", name="Trace").click()
    expect(trace).to_contain_text("foreign.example is not one of your domains.")
    expect(trace.locator(".trace-steps")).to_have_count(0)
