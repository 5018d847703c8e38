"""A mailbox at an alias's address receives none of its mail while the alias does not list
it: the writer says whether the alias delivers a copy to it, in the service the panel and the
CLI use (the reverse of tests/test_alias_at_mailbox.py)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEntry
from mailboxes import services as ms
from mailboxes.models import Alias, Mailbox
from tests import factories

pytestmark = pytest.mark.django_db

REFUSED = (
    "team@shop.example is an alias: a mailbox at its address receives none of its mail while"
    " the alias does not list it. Say whether the alias delivers a copy to the new mailbox or"
    " goes on taking all of the mail (in the CLI: --alias-copy or --no-alias-copy)."
)


@pytest.fixture(autouse=True)
def team() -> None:
    factories.domain("shop.example")
    factories.mailbox("anna@shop.example")
    factories.alias("team@shop.example", "anna@shop.example")


def _destinations() -> list[str]:
    alias = Alias.objects.get(local_part="team")
    return sorted(alias.destinations.values_list("address", flat=True))


def test_a_mailbox_at_an_alias_without_a_word_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        ms.mailbox_create(actor=None, address="team@shop.example")
    assert refused.value.message_dict == {"alias_copy": [REFUSED]}
    assert not Mailbox.objects.filter(local_part="team").exists()
    assert _destinations() == ["anna@shop.example"]


def test_with_a_copy_the_alias_lists_the_new_mailbox() -> None:
    ms.mailbox_create(actor=None, address="team@shop.example", alias_copy=True)
    assert _destinations() == ["anna@shop.example", "team@shop.example"]
    entry = AuditEntry.objects.get(object_type="alias", action="update")
    assert entry.changes == {
        "destinations": [["anna@shop.example"], ["anna@shop.example", "team@shop.example"]]
    }


def test_without_a_copy_the_alias_is_left_as_it_is() -> None:
    ms.mailbox_create(actor=None, address="team@shop.example", alias_copy=False)
    assert Mailbox.objects.filter(local_part="team").exists()
    assert _destinations() == ["anna@shop.example"]


def test_the_cli_asks_for_a_flag() -> None:
    with pytest.raises(CommandError) as refused:
        call_command("mailbox", "add", "team@shop.example", stdout=io.StringIO())
    assert str(refused.value) == f"address: {REFUSED}"
    call_command("mailbox", "add", "team@shop.example", "--alias-copy", stdout=io.StringIO())
    assert _destinations() == ["anna@shop.example", "team@shop.example"]
