"""An alias destination in a domain hosted here that nothing answers for is refused by every
writer (the services behind the panel and the CLI, the owners' forwarding, the CSV import):
mail sent on to it would bounce (mailboxes/unknown_destinations.py)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from domains import services as domain_services
from mailboxes import services as ms
from mailboxes.models import Alias
from mailboxes.selectors import mailbox_get
from selfservice.services import owner_set_forwarding
from tests import factories as f
from tests.transfer.test_csv_import import HEADER, rejected, run
from transfer.csvformat import CsvFile
from transfer.importer import Importer

pytestmark = pytest.mark.django_db

MISSING = (
    "%s does not exist: its domain is hosted here and has no mailbox, alias or catch-all for"
    " it, so mail sent on to it would bounce. Create it first, or correct the address."
)


@pytest.fixture(autouse=True)
def shop() -> None:
    f.domain("shop.example")
    f.mailbox("anna@shop.example")


def refused(**kwargs) -> list[str]:
    with pytest.raises(ValidationError) as info:
        ms.alias_create(actor=None, **kwargs)
    assert not Alias.objects.filter(local_part=kwargs["address"].partition("@")[0]).exists()
    return info.value.message_dict["destinations"]


def test_an_alias_to_a_local_address_nobody_has_is_refused() -> None:
    assert refused(address="team@shop.example", destinations=["anan@shop.example"]) == [
        MISSING % "anan@shop.example"
    ]


def test_each_missing_destination_is_named_and_the_good_ones_are_not() -> None:
    messages = refused(
        address="team@shop.example",
        destinations=["anna@shop.example", "bob@shop.example", "x@else.example", "cy@shop.example"],
    )
    assert messages == [MISSING % "bob@shop.example", MISSING % "cy@shop.example"]


def test_what_answers_for_an_address_makes_it_exist() -> None:
    f.domain("club.example")
    f.alias("list@shop.example", "x@else.example")
    domain_services.alias_domain_create(actor=None, name="shop.net", target="shop.example")
    ms.alias_create(
        actor=None,
        address="team@shop.example",
        destinations=[
            "anna@shop.example",  # a mailbox
            "list@shop.example",  # an alias
            "anna@shop.net",  # the same user in an alias domain's target
            "anna+news@shop.example",  # an extension of a mailbox
            "anyone@else.example",  # not hosted here
        ],
    )
    f.alias("@club.example", "anna@shop.example")
    ms.alias_create(actor=None, address="all@shop.example", destinations=["who@club.example"])


def test_postmaster_exists_while_the_server_takes_it() -> None:
    ms.alias_create(
        actor=None, address="team@shop.example", destinations=["postmaster@shop.example"]
    )
    domain_services.server_settings_update(actor=None, postmaster_address="")
    assert refused(address="help@shop.example", destinations=["abuse@shop.example"]) == [
        MISSING % "abuse@shop.example"
    ]


def test_changing_destinations_is_checked_too() -> None:
    alias = f.alias("team@shop.example", "anna@shop.example")
    with pytest.raises(ValidationError) as info:
        ms.alias_set_destinations(actor=None, alias=alias, destinations=["ana@shop.example"])
    assert info.value.message_dict["destinations"] == [MISSING % "ana@shop.example"]
    assert list(alias.destinations.values_list("address", flat=True)) == ["anna@shop.example"]


def test_the_cli_says_it_in_one_line() -> None:
    with pytest.raises(CommandError) as info:
        call_command("alias", "add", "team@shop.example", "bob@shop.example", stdout=io.StringIO())
    assert str(info.value) == "destinations: " + MISSING % "bob@shop.example"


def test_a_domain_admin_is_not_told_about_domains_they_do_not_run() -> None:
    f.domain("other.example")
    clerk = f.domain_admin("clerk", f.domain("mine.example"))
    alias = ms.alias_create(
        actor=clerk, address="team@mine.example", destinations=["nobody@other.example"]
    )
    assert alias.pk
    with pytest.raises(ValidationError):
        ms.alias_create(actor=clerk, address="x@mine.example", destinations=["no@mine.example"])


def test_an_owner_forwarding_to_a_missing_address_of_their_domain_is_refused() -> None:
    anna = mailbox_get(user=None, address="anna@shop.example")
    with pytest.raises(ValidationError) as info:
        owner_set_forwarding(mailbox=anna, destinations=["bbo@shop.example"], keep_copy=True)
    assert info.value.message_dict["destinations"] == [MISSING % "bbo@shop.example"]
    # Other domains hosted here are not the owner's to probe.
    f.domain("other.example")
    owner_set_forwarding(mailbox=anna, destinations=["x@other.example"], keep_copy=True)


def test_the_csv_import_refuses_it_and_writes_nothing() -> None:
    text = HEADER + 'alias,team@shop.example,,,"anna@shop.example; bob@shop.example",,,\n'
    assert rejected(text) == {2: "destinations: " + MISSING % "bob@shop.example"}


def test_the_csv_import_counts_the_files_own_mailboxes() -> None:
    text = (
        HEADER + 'alias,team@shop.example,,,"anna@shop.example; bob@shop.example",,,\n'
        "mailbox,bob@shop.example,a clear password,,,,,\n"
    )
    assert run(text).committed


def test_a_migration_brings_dangling_destinations_over() -> None:
    text = HEADER + "alias,team@shop.example,,,bob@shop.example,,,\n"
    report = Importer(CsvFile(data=text.encode()), actor=None, on_error="skip").commit()
    assert report.committed
    assert Alias.objects.filter(local_part="team").exists()


@override_settings(MAILADMIN_RECIPIENT_DELIMITER="")
def test_without_a_delimiter_an_extension_is_an_address_of_its_own() -> None:
    refused(address="team@shop.example", destinations=["anna+news@shop.example"])


def test_a_disabled_alias_exists_as_a_disabled_mailbox_does() -> None:
    desk = f.alias("desk@shop.example", "x@else.example")
    ms.alias_set_active(actor=None, alias=desk, active=False)
    ms.mailbox_set_active(
        actor=None, mailbox=mailbox_get(user=None, address="anna@shop.example"), active=False
    )
    domain_services.alias_domain_create(actor=None, name="shop.net", target="shop.example")
    ms.alias_create(
        actor=None,
        address="team@shop.example",
        destinations=["desk@shop.example", "anna@shop.example", "desk@shop.net"],
    )
