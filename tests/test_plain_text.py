"""Names and descriptions hold no control or invisible formatting characters, whoever writes
them: a bidi override (U+202E) makes one name read as another in the panel and in logs."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from domains import services as domain_services
from domains.models import Domain
from mailadmin.text import describe, unsafe_character
from mailboxes import services as mailbox_services
from mailboxes.models import Alias, Mailbox
from tests import factories as f
from transfer.csvformat import Record
from transfer.importer import Importer

pytestmark = pytest.mark.django_db

BAD = ["evil\u202etxt.exe", "bell\x07", "nul\x00", "zero\u200bwidth", "line\u2028break", "del\x7f"]


@pytest.mark.parametrize("text", BAD)
def test_the_rule(text: str) -> None:
    assert unsafe_character(text) is not None


@pytest.mark.parametrize("text", ["Jöhn O'Brien", "日本語", "Ünïcödé \u2013 dash", "emoji 📬"])
def test_ordinary_text_passes(text: str) -> None:
    assert unsafe_character(text) is None


def test_newlines_only_where_allowed() -> None:
    assert unsafe_character("a\nb") == "\n"
    assert unsafe_character("a\r\nb\tc", allow_newlines=True) is None


def test_describe_names_the_character() -> None:
    assert describe("\u202e") == "U+202E (RIGHT-TO-LEFT OVERRIDE)"
    assert describe("\x07") == "U+0007 (control character)"


@pytest.mark.parametrize("text", BAD)
def test_services_refuse_it_in_names_and_descriptions(text: str) -> None:
    domain = f.domain("example.com")
    mailbox = f.mailbox("john@example.com")
    alias = f.alias("team@example.com", "john@example.com")
    writes = [
        (
            "description",
            lambda: domain_services.domain_update(actor=None, domain=domain, description=text),
        ),
        (
            "description",
            lambda: domain_services.domain_create(actor=None, name="x.example", description=text),
        ),
        ("name", lambda: mailbox_services.mailbox_update(actor=None, mailbox=mailbox, name=text)),
        (
            "name",
            lambda: mailbox_services.mailbox_create(
                actor=None, address="jane@example.com", password="long enough", name=text
            ),
        ),
        (
            "description",
            lambda: mailbox_services.alias_create(
                actor=None,
                address="x@example.com",
                destinations=["john@example.com"],
                description=text,
            ),
        ),
    ]
    named = describe(unsafe_character(text) or "")
    for field, write in writes:
        with pytest.raises(ValidationError) as info:
            write()
        errors = info.value.error_dict
        assert list(errors) == [field], info.value
        assert [e.code for e in errors[field]] == ["unsafe_character"], info.value
        assert info.value.message_dict[field] == [
            f"This text holds a character that is not allowed: {named}."
        ]
    alias.refresh_from_db()
    domain.refresh_from_db()
    assert domain.description == "" and alias.description == ""
    assert not Domain.objects.filter(name="x.example").exists()
    assert not Alias.objects.filter(local_part="x").exists()
    assert Mailbox.objects.get(pk=mailbox.pk).name == ""
    assert not Mailbox.objects.filter(local_part="jane").exists()


def test_the_import_reports_it_on_its_line() -> None:
    f.domain("example.com")
    records = [
        Record(
            2,
            {
                "type": "mailbox",
                "name": "a@example.com",
                "password": "long enough",
                "display_name": "ev\u202eil",
            },
        ),
        Record(
            3,
            {
                "type": "alias",
                "name": "b@example.com",
                "destinations": "a@example.com",
                "display_name": "bell\x07",
            },
        ),
    ]
    report = Importer(records, actor=None).validate()
    reasons = {p.line: p.reason for p in report.errors}
    assert set(reasons) == {2, 3}
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in reasons[2]
    assert reasons[3].startswith("display_name: ")


def test_the_panel_form_shows_it(client) -> None:
    domain = f.domain("example.com")
    client.force_login(f.domain_admin("dana", domain))
    response = client.post("/domains/example.com/edit/", {"description": "evil\u202eexe"})
    assert response.status_code == 200
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in response.content.decode()
    domain.refresh_from_db()
    assert domain.description == ""
