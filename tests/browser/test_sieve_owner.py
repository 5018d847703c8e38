"""The owner's vacation reply and filters in the real Chromium, in English and in Ukrainian.

The owner logs in, sets a vacation reply (dates, subject, text, one of the mailbox's addresses
unticked) and a filter (subject contains X -> folder Y), with htmx doing the form posts; the
pages, the home page's summary and the database show both. Then the rule moves and goes.
Screenshots: ci-artifacts/screenshots/sieve-<language>-<step>.png.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import override
from playwright.sync_api import Page, expect

from mailboxes.models import Mailbox
from sieve import services
from sieve.models import FilterRule, SieveScript, Vacation
from tests import factories
from tests.browser.conftest import screenshot
from tests.browser.test_owner_flow import switch_language

ADDRESS = "john@example.com"
PASSWORD = "Mellow-Harbour-42"

TEXT = {
    "en": {
        "address": "Email address",
        "password": "Password",
        "log_in": "Log in",
        "nav_vacation": "Vacation reply",
        "nav_filters": "Filters",
        "send": "Send the vacation reply",
        "first": "First day",
        "last": "Last day",
        "subject": "Subject",
        "message": "Message",
        "days": "Days between two replies to the same sender",
        "save_vacation": "Save the vacation reply",
        "vacation_on": "The vacation reply is on.",
        "no_subject": "Give the reply a subject.",
        "add_rule": "Add a rule",
        "when": "When",
        "match": "Match",
        "text": "Text",
        "then": "Then",
        "folder": "Folder",
        "subject_choice": "subject",
        "contains": "contains",
        "file_into": "file into a folder",
        "add_the_rule": "Add the rule",
        "no_folder": "Name the folder.",
        "rule_added": "The filter rule is added.",
        "rule_row": "subject contains “Project X”",
        "folder_row": "file into a folder: Projects/X",
        "home": "My mailbox",
        "summary": "The vacation reply is on from {start} to {end}.",
        "one_rule": "1 filter rule.",
        "move_down": "Move down",
        "now_second": "The rule is now number 2.",
        "delete": "Delete",
        "deleted": "The filter rule is deleted.",
    },
    "uk": {
        "address": "Адреса електронної пошти",
        "password": "Пароль",
        "log_in": "Увійти",
        "nav_vacation": "Автовідповідь",
        "nav_filters": "Фільтри",
        "send": "Надсилати автовідповідь",
        "first": "Перший день",
        "last": "Останній день",
        "subject": "Тема",
        "message": "Повідомлення",
        "days": "Днів між двома відповідями тому самому відправникові",
        "save_vacation": "Зберегти автовідповідь",
        "vacation_on": "Автовідповідь увімкнено.",
        "no_subject": "Вкажіть тему відповіді.",
        "add_rule": "Додати правило",
        "when": "Коли",
        "match": "Порівняння",
        "text": "Текст",
        "then": "Тоді",
        "folder": "Тека",
        "subject_choice": "тема",
        "contains": "містить",
        "file_into": "покласти в теку",
        "add_the_rule": "Додати правило",
        "no_folder": "Вкажіть назву теки.",
        "rule_added": "Правило фільтра додано.",
        "rule_row": "тема містить «Project X»",
        "folder_row": "покласти в теку: Projects/X",
        "home": "Моя скринька",
        "summary": "Автовідповідь увімкнено з {start} по {end}.",
        "one_rule": "1 правило фільтра.",
        "move_down": "Перемістити нижче",
        "now_second": "Тепер це правило номер 2.",
        "delete": "Видалити",
        "deleted": "Правило фільтра видалено.",
    },
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["en", "uk"])
def test_owner_sets_a_vacation_reply_and_a_filter(page: Page, lang: str) -> None:
    t = TEXT[lang]
    factories.domain("example.com")
    factories.mailbox(ADDRESS, password=PASSWORD)
    factories.alias("sales@example.com", ADDRESS)
    mailbox = Mailbox.objects.get(local_part="john")
    today = timezone.localdate()
    start, end = today + timedelta(days=2), today + timedelta(days=9)

    page.goto("/me/login/")
    if lang != "en":
        switch_language(page, lang)
    page.get_by_label(t["address"]).fill(ADDRESS)
    page.get_by_label(t["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t["log_in"]).click()
    page.wait_for_url(re.compile(r"/me/$"))

    # The vacation reply: first without a subject (htmx swaps the form with its errors).
    page.get_by_role("link", name=t["nav_vacation"], exact=True).click()
    page.wait_for_url(re.compile(r"/me/vacation/$"))
    page.get_by_label(t["send"]).check()
    page.get_by_label(t["first"]).fill(start.isoformat())
    page.get_by_label(t["last"]).fill(end.isoformat())
    page.get_by_label(t["message"]).fill("I am away.\nAsk sales@example.com meanwhile.")
    page.get_by_label(t["days"]).fill("3")
    page.get_by_label("sales@example.com").uncheck()
    page.get_by_role("button", name=t["save_vacation"]).click()
    expect(page.locator("#vacation-form")).to_contain_text(t["no_subject"])
    assert not Vacation.objects.exists()
    screenshot(page, f"sieve-{lang}-vacation-refused")
    # What was typed is still there; the subject completes it.
    expect(page.get_by_label("sales@example.com")).not_to_be_checked()
    page.get_by_label(t["subject"], exact=True).fill("Away until the 10th")
    page.get_by_role("button", name=t["save_vacation"]).click()
    expect(page.get_by_role("status")).to_contain_text(t["vacation_on"])
    vacation = Vacation.objects.get(mailbox=mailbox)
    assert (vacation.enabled, vacation.start, vacation.end) == (True, start, end)
    assert (vacation.subject, vacation.days) == ("Away until the 10th", 3)
    assert vacation.body == "I am away.\nAsk sales@example.com meanwhile."
    assert vacation.addresses == [ADDRESS]
    expect(page.get_by_label(t["subject"], exact=True)).to_have_value("Away until the 10th")
    expect(page.get_by_label(ADDRESS)).to_be_checked()
    expect(page.get_by_label("sales@example.com")).not_to_be_checked()
    screenshot(page, f"sieve-{lang}-vacation")

    # A filter: subject contains "Project X" -> folder Projects/X; first without the folder.
    page.get_by_role("link", name=t["nav_filters"], exact=True).click()
    page.get_by_role("link", name=t["add_rule"]).click()
    page.get_by_label(t["when"], exact=True).select_option(label=t["subject_choice"])
    page.get_by_label(t["match"], exact=True).select_option(label=t["contains"])
    page.get_by_label(t["text"], exact=True).fill("Project X")
    page.get_by_label(t["then"], exact=True).select_option(label=t["file_into"])
    page.get_by_role("button", name=t["add_the_rule"]).click()
    expect(page.locator("#rule-form")).to_contain_text(t["no_folder"])
    assert not FilterRule.objects.exists()
    page.get_by_label(t["folder"], exact=True).fill("Projects/X")
    page.get_by_role("button", name=t["add_the_rule"]).click()
    page.wait_for_url(re.compile(r"/me/filters/$"))
    expect(page.get_by_role("status")).to_contain_text(t["rule_added"])
    row = page.get_by_test_id("rule")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(t["rule_row"])
    expect(row).to_contain_text(t["folder_row"])
    rule = FilterRule.objects.get(mailbox=mailbox)
    assert (rule.condition, rule.match, rule.value) == ("subject", "contains", "Project X")
    assert (rule.action, rule.folder, rule.position) == ("fileinto", "Projects/X", 0)
    script = SieveScript.objects.get(mailbox=mailbox).script
    assert 'fileinto :create "Projects/X";' in script and ':subject "Away until the 10th"' in script
    screenshot(page, f"sieve-{lang}-filters")

    # The home page sums both up.
    page.get_by_role("link", name=t["home"], exact=True).click()
    with override(lang):
        dates = {"start": date_format(start, "DATE_FORMAT"), "end": date_format(end, "DATE_FORMAT")}
    expect(page.get_by_test_id("vacation-summary")).to_contain_text(t["summary"].format(**dates))
    expect(page.get_by_test_id("filters-summary")).to_contain_text(t["one_rule"])
    screenshot(page, f"sieve-{lang}-home")

    # A second rule, moved below by htmx; then one deleted (htmx, after the confirm dialog).
    services.filter_rule_create(
        actor=None,
        mailbox=mailbox,
        condition="sender",
        match="contains",
        value="boss",
        action="mark_read",
        by_owner=True,
    )
    page.get_by_role("link", name=t["nav_filters"], exact=True).click()
    expect(page.get_by_test_id("rule")).to_have_count(2)
    page.get_by_role("button", name=t["move_down"]).first.click()
    expect(page.get_by_role("status")).to_contain_text(t["now_second"])
    assert list(FilterRule.objects.order_by("position").values_list("value", flat=True)) == [
        "boss",
        "Project X",
    ]
    expect(page.get_by_test_id("rule").nth(1)).to_contain_text(t["rule_row"])
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("rule").nth(0).get_by_role("link", name=t["delete"]).click()
    expect(page.get_by_role("status")).to_contain_text(t["deleted"])
    expect(page.get_by_test_id("rule")).to_have_count(1)
    assert list(FilterRule.objects.values_list("value", flat=True)) == ["Project X"]
