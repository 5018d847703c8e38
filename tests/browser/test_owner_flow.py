"""The whole mailbox-owner flow in the real Chromium, in English and in Ukrainian.

Login, the overview, a password change, forwarding, logout; the Ukrainian run switches the
language with the switcher of base.html first and checks the translated pages.
Screenshots: ci-artifacts/screenshots/owner-<language>-<step>.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from mailadmin.passwords import verify_password
from mailboxes.models import Mailbox
from selfservice.selectors import forwarding_of
from tests import factories
from tests.browser.conftest import screenshot

ADDRESS = "john@example.com"
OLD = "Mellow-Harbour-42"
NEW = "Quiet-Meadow-77"

TEXT = {
    "en": {
        "login_title": "Mailbox login",
        "address": "Email address",
        "password": "Password",
        "log_in": "Log in",
        "refused": "The address or the password is wrong",
        "home_title": "My mailbox",
        "nav_password": "Password",
        "nav_forwarding": "Forwarding",
        "current": "Current password",
        "new": "New password",
        "again": "New password again",
        "change": "Change password",
        "changed": "Your password is changed.",
        "too_common": "That password is too common.",
        "forward_to": "Forward to",
        "keep_copy": "Keep a copy in this mailbox",
        "save_forwarding": "Save forwarding",
        "saved": "Forwarding is saved.",
        "forwarded_to": "Your mail is forwarded to:",
        "copy_stays": "A copy stays in this mailbox.",
        "log_out": "Log out",
        "logged_out": "You are logged out.",
    },
    "uk": {
        "login_title": "Вхід до скриньки",
        "address": "Адреса електронної пошти",
        "password": "Пароль",
        "log_in": "Увійти",
        "refused": "Адреса чи пароль неправильні",
        "home_title": "Моя скринька",
        "nav_password": "Пароль",
        "nav_forwarding": "Переадресація",
        "current": "Поточний пароль",
        "new": "Новий пароль",
        "again": "Новий пароль ще раз",
        "change": "Змінити пароль",
        "changed": "Пароль змінено.",
        "too_common": "Цей пароль надто поширений.",
        "forward_to": "Пересилати на",
        "keep_copy": "Залишати копію в цій скриньці",
        "save_forwarding": "Зберегти переадресацію",
        "saved": "Переадресацію збережено.",
        "forwarded_to": "Ваша пошта пересилається на:",
        "copy_stays": "Копія залишається в цій скриньці.",
        "log_out": "Вийти",
        "logged_out": "Ви вийшли.",
    },
}


def switch_language(page: Page, code: str) -> None:
    page.locator("#lang-select").select_option(code)
    page.locator("form.lang button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", code)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["en", "uk"])
def test_owner_flow(page: Page, lang: str) -> None:
    t = TEXT[lang]
    factories.domain("example.com")
    factories.mailbox(ADDRESS, password=OLD, quota=2 * 1024**3)
    factories.alias("sales@example.com", ADDRESS)

    page.goto("/me/login/")
    if lang != "en":
        switch_language(page, lang)
    expect(page.get_by_role("heading", name=t["login_title"])).to_be_visible()

    # A wrong password first: refused in the page's language.
    page.get_by_label(t["address"]).fill(ADDRESS)
    page.get_by_label(t["password"], exact=True).fill("not-the-password")
    page.get_by_role("button", name=t["log_in"]).click()
    expect(page.get_by_role("alert")).to_contain_text(t["refused"])

    page.get_by_label(t["address"]).fill(ADDRESS)
    page.get_by_label(t["password"], exact=True).fill(OLD)
    page.get_by_role("button", name=t["log_in"]).click()
    page.wait_for_url(re.compile(r"/me/$"))
    expect(page.get_by_role("heading", name=t["home_title"])).to_be_visible()
    expect(page.get_by_test_id("address")).to_have_text(ADDRESS)
    expect(page.locator("main")).to_contain_text("2 GiB")
    expect(page.locator("main")).to_contain_text("sales@example.com")
    screenshot(page, f"owner-{lang}-home")

    # Password: the policy refuses a common one, then the change goes through.
    page.get_by_role("link", name=t["nav_password"], exact=True).click()
    page.get_by_label(t["current"]).fill(OLD)
    page.get_by_label(t["new"], exact=True).fill("password123")
    page.get_by_label(t["again"]).fill("password123")
    page.get_by_role("button", name=t["change"]).click()
    expect(page.locator("main")).to_contain_text(t["too_common"])
    screenshot(page, f"owner-{lang}-password-refused")
    page.get_by_label(t["current"]).fill(OLD)
    page.get_by_label(t["new"], exact=True).fill(NEW)
    page.get_by_label(t["again"]).fill(NEW)
    page.get_by_role("button", name=t["change"]).click()
    page.wait_for_url(re.compile(r"/me/$"))
    expect(page.get_by_role("status")).to_contain_text(t["changed"])
    mailbox = Mailbox.objects.get(local_part="john")
    assert verify_password(NEW, mailbox.password)
    assert not verify_password(OLD, mailbox.password)

    # Forwarding with a copy.
    page.get_by_role("link", name=t["nav_forwarding"], exact=True).click()
    page.get_by_label(t["forward_to"]).fill("boss@elsewhere.net\nteam@elsewhere.net")
    page.get_by_label(t["keep_copy"]).check()
    screenshot(page, f"owner-{lang}-forwarding")
    page.get_by_role("button", name=t["save_forwarding"]).click()
    expect(page.get_by_role("status")).to_contain_text(t["saved"])
    state = forwarding_of(mailbox)
    assert (state.destinations, state.keep_copy) == (
        ["boss@elsewhere.net", "team@elsewhere.net"],
        True,
    )
    page.get_by_role("link", name=t["home_title"], exact=True).click()
    expect(page.locator("main")).to_contain_text(t["forwarded_to"])
    expect(page.get_by_test_id("forwards")).to_contain_text("team@elsewhere.net")
    expect(page.locator("main")).to_contain_text(t["copy_stays"])
    screenshot(page, f"owner-{lang}-home-forwarding")

    # Logout, and the owner pages are closed again.
    page.get_by_role("button", name=t["log_out"]).click()
    page.wait_for_url(re.compile(r"/me/login/$"))
    expect(page.get_by_role("status")).to_contain_text(t["logged_out"])
    page.goto("/me/")
    page.wait_for_url(re.compile(r"/me/login/$"))
    expect(page.get_by_role("heading", name=t["login_title"])).to_be_visible()
    screenshot(page, f"owner-{lang}-logged-out")
