"""The vacation reply page: what it saves through the services (audited, the script published),
every error at once when it refuses (and nothing changed), htmx and CSRF, and Ukrainian."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import override

from audit.models import AuditEntry
from mailboxes.models import Mailbox
from sieve import services
from sieve.models import SieveScript, Vacation
from tests.sieve.support import state
from tests.sieve.web import admin_client, admin_url, csrf_token, owner_client, owner_url, text

pytestmark = pytest.mark.django_db

ALICES = ["alice@a.example", "alice@alias-a.example", "sales@a.example", "sales@alias-a.example"]


def _days(n: int) -> str:
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def _post(**changes: object) -> dict[str, object]:
    return {
        "enabled": "on",
        "start": _days(1),
        "end": _days(14),
        "subject": "Out of office",
        "body": "Back on Monday.\nAsk Bob meanwhile.",
        "days": "3",
        "addresses": ALICES[:2] + ALICES[3:],  # sales@a.example unticked
        **changes,
    }


def test_the_owner_sets_a_reply_for_some_addresses(alice: Mailbox) -> None:
    client = owner_client(alice)
    page = text(client.get(owner_url("vacation")))
    for address in ALICES:  # every answerable address, ticked: no reply yet means all
        assert f'value="{address}" id' in page
    assert page.count(" checked>") == len(ALICES)

    response = client.post(owner_url("vacation"), _post())
    assert (response.status_code, response["Location"]) == (302, "/me/vacation/")
    vacation = Vacation.objects.get(mailbox=alice)
    assert (vacation.enabled, vacation.subject, vacation.days) == (True, "Out of office", 3)
    assert vacation.body == "Back on Monday.\nAsk Bob meanwhile."
    assert (str(vacation.start), str(vacation.end)) == (_days(1), _days(14))
    assert vacation.addresses == [
        "alice@a.example",
        "alice@alias-a.example",
        "sales@alias-a.example",
    ]
    script = SieveScript.objects.get(mailbox=alice).script
    assert ':subject "Out of office"' in script and '"sales@a.example"' not in script
    entry = AuditEntry.objects.get(action="create", object_type="vacation")
    assert (entry.actor, entry.actor_label, entry.domain) == (None, "alice@a.example", "a.example")

    page = text(client.get(owner_url("vacation")))
    assert "The vacation reply is on." in page
    assert 'value="Out of office"' in page
    assert 'value="sales@a.example" id="id_addresses_2">' in page  # unticked
    assert 'value="sales@alias-a.example" id="id_addresses_3" checked>' in page


def test_every_address_ticked_stores_all_of_them(alice: Mailbox) -> None:
    client = owner_client(alice)
    client.post(owner_url("vacation"), _post(addresses=ALICES))
    assert Vacation.objects.get(mailbox=alice).addresses == []


def test_switching_off_keeps_the_text(alice: Mailbox) -> None:
    client = owner_client(alice)
    client.post(owner_url("vacation"), _post())
    # Unticked and the text emptied: off, the stored text stays for the next time.
    response = client.post(owner_url("vacation"), {"days": "3", "addresses": ALICES})
    assert response.status_code == 302
    vacation = Vacation.objects.get(mailbox=alice)
    assert (vacation.enabled, vacation.subject) == (False, "Out of office")
    assert not SieveScript.objects.filter(mailbox=alice).exists()  # the default script again
    assert "The vacation reply is off." in text(client.get(owner_url("vacation")))
    # Unticked with a new text: saved and off.
    client.post(owner_url("vacation"), _post(enabled="", subject="Later"))
    vacation.refresh_from_db()
    assert (vacation.enabled, vacation.subject) == (False, "Later")


def test_bad_input_shows_every_error_and_changes_nothing(alice: Mailbox) -> None:
    client = owner_client(alice)
    client.post(owner_url("vacation"), _post())
    before = state()
    response = client.post(
        owner_url("vacation"),
        _post(subject=" ", body="", days="0", start=_days(5), end=_days(2), addresses=[]),
    )
    assert response.status_code == 200
    page = text(response)
    for message in (
        "Give the reply a subject.",
        "Write the text of the reply.",
        "Choose a number of days from 1 to 60.",
        "The last day comes before the first day.",
        "Tick at least one address the reply answers for.",
    ):
        assert message in page, message
    assert state() == before

    # Unparsable values: their own messages, and the rules' for the other fields.
    response = client.post(
        owner_url("vacation"),
        _post(days="many", start="soon", subject="", addresses=["mallory@elsewhere.net"]),
    )
    page = text(response)
    for message in (
        "Enter a whole number.",
        "Enter a valid date.",
        "Give the reply a subject.",
        "Select a valid choice. mallory@elsewhere.net is not one of the available choices.",
    ):
        assert message in page, message
    assert state() == before


def test_a_last_day_gone_by_is_refused_while_on(alice: Mailbox) -> None:
    client = owner_client(alice)
    response = client.post(owner_url("vacation"), _post(start="", end=_days(-1)))
    assert f"The last day, {_days(-1)}, has passed." in text(response)
    assert not Vacation.objects.exists()


def test_htmx_gets_the_form_alone_or_a_redirect(alice: Mailbox) -> None:
    client = owner_client(alice)
    htmx = {"HX-Request": "true"}
    refused = client.post(owner_url("vacation"), _post(subject=""), headers=htmx)
    assert refused.status_code == 200
    body = text(refused)
    assert body.lstrip().startswith('<form id="vacation-form"')
    assert "<html" not in body and "Give the reply a subject." in body
    saved = client.post(owner_url("vacation"), _post(), headers=htmx)
    assert saved["HX-Redirect"] == "/me/vacation/"
    assert Vacation.objects.get(mailbox=alice).enabled


def test_csrf_is_checked_for_forms_and_htmx(alice: Mailbox) -> None:
    client = owner_client(alice, enforce_csrf_checks=True)
    assert client.post(owner_url("vacation"), _post()).status_code == 403
    assert (
        client.post(owner_url("vacation"), _post(), headers={"HX-Request": "true"}).status_code
        == 403
    )
    assert not Vacation.objects.exists()
    token = csrf_token(client)
    # htmx sends the token in the header base.html's hx-headers names.
    response = client.post(
        owner_url("vacation"), _post(), headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert response.status_code == 200 and response["HX-Redirect"] == "/me/vacation/"
    assert client.post(owner_url("vacation"), _post(csrfmiddlewaretoken=token)).status_code == 302


def test_an_admin_sets_the_reply_in_their_domain(admin_a, alice: Mailbox) -> None:
    client = admin_client(admin_a)
    url = admin_url("vacation", alice)
    assert client.post(url, _post()).status_code == 302
    entry = AuditEntry.objects.get(action="create", object_type="vacation")
    assert (entry.actor, entry.actor_label) == (admin_a, "admin-a")
    assert Vacation.objects.get(mailbox=alice).addresses[-1] == "sales@alias-a.example"


def test_the_owners_home_page_sums_it_up(alice: Mailbox) -> None:
    client = owner_client(alice)
    home = text(client.get("/me/"))
    assert "The vacation reply is off." in home and "No filter rules." in home
    services.vacation_set(
        actor=None,
        mailbox=alice,
        subject="Away",
        body="Gone.",
        start=timezone.localdate() + timedelta(days=1),
        end=timezone.localdate() + timedelta(days=3),
    )
    for value in ("a", "b"):
        services.filter_rule_create(
            actor=None,
            mailbox=alice,
            condition="subject",
            match="contains",
            value=value,
            action="discard",
        )
    home = text(client.get("/me/"))
    start = date_format(timezone.localdate() + timedelta(days=1), "DATE_FORMAT")
    end = date_format(timezone.localdate() + timedelta(days=3), "DATE_FORMAT")
    assert f"The vacation reply is on from {start} to {end}." in home
    assert "2 filter rules." in home
    assert 'href="/me/vacation/"' in home and 'href="/me/filters/"' in home


def test_the_page_and_its_errors_in_ukrainian(alice: Mailbox) -> None:
    client = owner_client(alice)
    client.cookies["django_language"] = "uk"
    page = text(client.get(owner_url("vacation")))
    assert '<html lang="uk">' in page
    for words in ("Автовідповідь", "Надсилати автовідповідь", "Відповідати на пошту, надіслану на"):
        assert words in page, words
    refused = text(client.post(owner_url("vacation"), _post(subject="", days="0")))
    assert "Вкажіть тему відповіді." in refused
    assert "Виберіть кількість днів від 1 до 60." in refused
    assert "Give the reply" not in refused
    client.post(owner_url("vacation"), _post())
    home = text(client.get("/me/"))
    with override("uk"):
        start = date_format(timezone.localdate() + timedelta(days=1), "DATE_FORMAT")
        end = date_format(timezone.localdate() + timedelta(days=14), "DATE_FORMAT")
    assert f"Автовідповідь увімкнено з {start} по {end}." in home
