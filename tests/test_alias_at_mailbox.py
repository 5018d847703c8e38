"""An alias at a mailbox's address takes all of its mail: its writer says whether the mailbox
keeps a copy, in the service every writer uses (panel, CLI)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from mailboxes import services as ms
from mailboxes.models import Alias
from tests import factories

pytestmark = pytest.mark.django_db

REFUSED = (
    "anna@shop.example is a mailbox: an alias at its address takes all of its mail. Say whether"
    " the mailbox keeps a copy or gets nothing (in the CLI: --keep-copy or --forward-only)."
)


@pytest.fixture(autouse=True)
def anna() -> None:
    factories.domain("shop.example")
    factories.mailbox("anna@shop.example")


def _destinations() -> list[str]:
    return sorted(
        Alias.objects.get(local_part="anna").destinations.values_list("address", flat=True)
    )


def test_an_alias_at_a_mailbox_without_a_word_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        ms.alias_create(actor=None, address="anna@shop.example", destinations=["x@else.example"])
    assert refused.value.message_dict == {"destinations": [REFUSED]}
    assert not Alias.objects.exists()


def test_keeping_a_copy_adds_the_address() -> None:
    ms.alias_create(
        actor=None, address="anna@shop.example", destinations=["x@else.example"], mailbox_copy=True
    )
    assert _destinations() == ["anna@shop.example", "x@else.example"]


def test_forward_only_is_said_explicitly() -> None:
    ms.alias_create(
        actor=None, address="anna@shop.example", destinations=["x@else.example"], mailbox_copy=False
    )
    assert _destinations() == ["x@else.example"]


def test_listing_the_address_itself_is_keeping_a_copy() -> None:
    ms.alias_create(
        actor=None,
        address="anna@shop.example",
        destinations=["anna@shop.example", "x@else.example"],
    )
    assert _destinations() == ["anna@shop.example", "x@else.example"]


def test_an_alias_elsewhere_needs_no_word() -> None:
    ms.alias_create(actor=None, address="team@shop.example", destinations=["anna@shop.example"])


def test_the_cli_refuses_and_takes_the_flags() -> None:
    with pytest.raises(CommandError) as refused:
        call_command("alias", "add", "anna@shop.example", "x@else.example", stdout=io.StringIO())
    assert "--keep-copy or --forward-only" in str(refused.value)
    call_command(
        "alias",
        "add",
        "anna@shop.example",
        "x@else.example",
        "--forward-only",
        stdout=io.StringIO(),
    )
    assert _destinations() == ["x@else.example"]


def test_the_panel_asks(admin_client: Client) -> None:
    url = "/domains/shop.example/aliases/new/"
    form = {"local_part": "anna", "destinations": "x@else.example"}
    page = admin_client.post(url, form).content.decode()
    assert "an alias at its address takes all of its mail" in page
    assert not Alias.objects.exists()
    admin_client.post(url, form | {"mailbox_copy": "keep"})
    assert _destinations() == ["anna@shop.example", "x@else.example"]
