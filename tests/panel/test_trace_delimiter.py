"""The trace follows recipient_delimiter as the exported Postfix does (docs/address-trace.md).

The world is tests/contract/scenario.py plus lmtp.example, the domain of the exported-policy
tests (tests/e2e/test_exported_policy.py, where the real Postfix and Dovecot deliver the same
addresses): the mailboxes plus@, plus+box@ and solo@, and the alias lists+news@ to solo@,
delivered over Dovecot LMTP. The engine reads it only through the contract views.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from domains import services as ds
from domains.models import Domain, RelayRecipient
from mailadmin.contract import trace
from mailadmin.contract.trace import trace_address
from mailboxes import services as ms
from mailboxes.trace_notes import ModelTraceNotes
from mailboxes.trace_text import render_trace
from tests import factories
from tests.contract.scenario import build
from tests.panel.conftest import mailbox_hash

pytestmark = pytest.mark.django_db
# The notes the panel reads from mailadmin's tables, as the trace page hands them in.
NOTES = ModelTraceNotes()

LMTP = "lmtp:unix:private/dovecot-lmtp"
MAILBOX_TABLES = (
    "virtual_alias_maps",
    "virtual_alias_catchall_maps",
    "virtual_mailbox_maps",
    "virtual_uid_maps",
    "virtual_gid_maps",
)


@pytest.fixture
def world() -> None:
    build()
    factories.domain("lmtp.example", transport=LMTP)
    for address in ("plus@lmtp.example", "plus+box@lmtp.example", "solo@lmtp.example"):
        factories.mailbox(address, password=None, password_hash=mailbox_hash())
    factories.alias("lists+news@lmtp.example", "solo@lmtp.example")


def codes(result: trace.Trace) -> list[str]:
    return [step.code for step in result.steps]


def keys(result: trace.Trace, *tables: str) -> list[str]:
    return [lookup.key for lookup in result.lookups if not tables or lookup.table in tables]


def delivered(result: trace.Trace) -> dict[str, str]:
    return {d.address: d.code for d in result.deliveries}


def text(result: trace.Trace) -> str:
    return " ".join(step["text"] for step in render_trace(result)["steps"])


# -- splitting: strip_addr(3) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "delimiter", "bare", "extension"),
    [
        ("user+tag@d.example", "+", "user@d.example", "+tag"),
        ("user+a+b@d.example", "+", "user@d.example", "+a+b"),  # at the first delimiter
        ("user+@d.example", "+", "user@d.example", "+"),
        # With several characters, the first one found in the local part splits it.
        ("a-b+c@d.example", "+-", "a@d.example", "-b+c"),
        ("a+b-c@d.example", "-+", "a@d.example", "+b-c"),
        # owner-/-request are kept only when "-" is a delimiter (owner_request_special).
        ("owner-list+x@d.example", "+", "owner-list@d.example", "+x"),
        ("list-request+x@d.example", "+", "list-request@d.example", "+x"),
        # The domain is never split, whatever it holds.
        ("user@my-domain.example", "-", "", ""),
    ],
)
def test_the_local_part_splits_at_the_first_delimiter(
    address: str, delimiter: str, bare: str, extension: str
) -> None:
    split = trace.split_address(address, delimiter)
    assert (split.bare, split.extension) == (bare, extension)


@pytest.mark.parametrize(
    ("address", "delimiter", "kept"),
    [
        ("user+tag@d.example", "", ""),  # no delimiter: nothing is split
        ("user@d.example", "+", ""),
        ("user-tag@d.example", "+", ""),
        ("+tag@d.example", "+", "leading"),  # no empty local part
        ("mailer-daemon@d.example", "-", "reserved"),
        ("double-bounce@d.example", "-", "reserved"),
        ("owner-list@d.example", "-", "reserved"),
        ("list-request@d.example", "+-", "reserved"),
    ],
)
def test_what_postfix_never_splits(address: str, delimiter: str, kept: str) -> None:
    split = trace.split_address(address, delimiter)
    assert (split.bare, split.extension, split.kept) == ("", "", kept)


# -- the lookups --------------------------------------------------------------------------------


def test_an_exact_mailbox_with_a_plus_is_found_by_the_first_key(world: None) -> None:
    result = trace_address("plus+box@lmtp.example", notes=NOTES)
    assert result.verdict == "accepted"
    assert "rcpt_in_alias_maps" in codes(result)
    assert delivered(result) == {"plus+box@lmtp.example": "deliver_transport"}
    # The address tables never ask for plus@: the exact key answered each of them. (The
    # access table and transport_maps, which have no entry for plus+box@, are asked for
    # plus@ too, as smtpd and trivial-rewrite ask them.)
    assert "plus@lmtp.example" not in keys(result, *MAILBOX_TABLES)
    assert keys(result, "recipient_access") == ["plus+box@lmtp.example", "plus@lmtp.example"]
    assert "note_extension_dropped_lmtp" not in codes(result)


def test_an_extension_goes_to_the_address_without_it(world: None) -> None:
    result = trace_address("solo+tag@lmtp.example", notes=NOTES)
    assert result.verdict == "accepted"
    split = next(step for step in result.steps if step.code == "extension_split")
    assert split.params == {
        "address": "solo+tag@lmtp.example",
        "bare": "solo@lmtp.example",
        "extension": "+tag",
        "delimiter": "+",
    }
    rcpt = next(step for step in result.steps if step.stage == "rcpt" and step.outcome == "ok")
    assert rcpt.code == "rcpt_extension_alias"
    # The exact key first in every table, then the key without the extension.
    assert [(lookup.table, lookup.key) for lookup in rcpt.lookups] == [
        ("recipient_access", "solo+tag@lmtp.example"),
        ("recipient_access", "solo@lmtp.example"),
        ("virtual_alias_maps", "solo+tag@lmtp.example"),
        ("virtual_alias_catchall_maps", "solo+tag@lmtp.example"),
        ("virtual_alias_maps", "solo@lmtp.example"),
    ]
    expand = next(step for step in result.steps if step.code == "expand_extension")
    assert expand.params["key"] == "solo@lmtp.example"
    assert expand.params["results"] == ["solo@lmtp.example"]
    # propagate_unmatched_extensions = canonical: LMTP gets solo@, not solo+tag@.
    assert delivered(result) == {"solo@lmtp.example": "deliver_transport"}
    assert "note_extension_dropped_lmtp" in codes(result)
    said = text(result)
    assert (
        "no entry for solo+tag@lmtp.example; solo@lmtp.example answered in virtual_alias_maps "
        "(recipient_delimiter +)" in said
    )
    assert "Dovecot LMTP has no recipient_delimiter and receives the exact address" in said


def test_an_extension_of_an_unknown_address_is_refused_at_rcpt(world: None) -> None:
    result = trace_address("nobody+tag@lmtp.example", notes=NOTES)
    assert result.verdict == "rejected"
    assert result.reply == (
        "550 5.1.1 <nobody+tag@lmtp.example>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    assert keys(result, "virtual_alias_maps", "virtual_alias_catchall_maps") == [
        "nobody+tag@lmtp.example",
        "nobody+tag@lmtp.example",
        "nobody@lmtp.example",
        "nobody@lmtp.example",
        "@lmtp.example",
        "@lmtp.example",
    ]
    assert keys(result, "virtual_mailbox_maps") == [
        "nobody+tag@lmtp.example",
        "nobody@lmtp.example",
    ]


def test_an_extension_of_a_mailbox_is_not_taken_by_the_catch_all(world: None) -> None:
    result = trace_address("bob+tag@example.com", notes=NOTES)
    assert delivered(result) == {"bob@example.com": "deliver_mbox_lmtp"}
    assert "@example.com" not in keys(result)
    assert "note_extension_dropped_lmtp" in codes(result)
    assert "Dovecot LMTP has no recipient_delimiter" in text(result)
    # Without the mailbox, the catch-all comes only after both keys.
    result = trace_address("nobody+tag@example.com", notes=NOTES)
    assert keys(result, "virtual_alias_maps", "virtual_alias_catchall_maps")[:5] == [
        "nobody+tag@example.com",
        "nobody+tag@example.com",
        "nobody@example.com",
        "nobody@example.com",
        "@example.com",
    ]
    assert delivered(result) == {"postmaster@example.com": "deliver_maildir_lmtp"}


def test_an_exact_alias_with_a_plus_wins(world: None) -> None:
    factories.mailbox("lists@lmtp.example", password=None, password_hash=mailbox_hash())
    result = trace_address("lists+news@lmtp.example", notes=NOTES)
    assert "expand_alias" in codes(result)
    assert delivered(result) == {"solo@lmtp.example": "deliver_transport"}
    assert "lists@lmtp.example" not in keys(result, *MAILBOX_TABLES)


def test_no_delimiter_no_splitting(world: None, settings) -> None:
    settings.MAILADMIN_RECIPIENT_DELIMITER = ""
    result = trace_address("solo+tag@lmtp.example", notes=NOTES)
    assert result.verdict == "rejected"
    assert result.reply.endswith("User unknown in virtual mailbox table")
    assert "solo@lmtp.example" not in keys(result)
    assert not [code for code in codes(result) if "extension" in code]
    # example.com's catch-all takes what is not bob's own address.
    result = trace_address("bob+tag@example.com", notes=NOTES)
    assert delivered(result) == {"postmaster@example.com": "deliver_maildir_lmtp"}
    assert "bob@example.com" not in keys(result)


def test_several_delimiter_characters(world: None, settings) -> None:
    settings.MAILADMIN_RECIPIENT_DELIMITER = "-+"
    assert delivered(trace_address("solo-a+b@lmtp.example", notes=NOTES)) == {
        "solo@lmtp.example": "deliver_transport"
    }
    # With "-" a delimiter, an owner-/-request local part is only ever looked up as it is.
    result = trace_address("solo-request@lmtp.example", notes=NOTES)
    assert result.verdict == "rejected"
    assert "extension_reserved" in codes(result)
    assert "solo@lmtp.example" not in keys(result)


def test_a_disabled_mailbox_refuses_its_extensions(world: None) -> None:
    result = trace_address("carol+tag@example.com", notes=NOTES)
    assert result.verdict == "rejected"
    assert result.reply == (
        "550 5.2.1 <carol+tag@example.com>: Recipient address rejected: Mailbox disabled"
    )
    assert "rcpt_extension_access_refused" in codes(result)
    assert "note_mailbox_inactive" in codes(result)


def test_a_relay_recipient_without_the_extension_accepts_it(world: None) -> None:
    relay = Domain.objects.get(name="relay.example")
    RelayRecipient.objects.create(domain=relay, local_part="listed")
    result = trace_address("listed+tag@relay.example", notes=NOTES)
    assert result.verdict == "accepted"
    assert "rcpt_extension_relay" in codes(result)
    # Nothing rewrites it: the relay gets the address as it came, extension and all.
    assert delivered(result) == {"listed+tag@relay.example": "deliver_relay"}
    assert keys(result, "transport_maps") == [
        "listed+tag@relay.example",
        "listed@relay.example",
        "relay.example",
    ]
    assert trace_address("other+tag@relay.example", notes=NOTES).verdict == "rejected"


def test_alias_domains_and_their_catch_all(world: None) -> None:
    # alice@alias.example answers: the extension is dropped on the way to alice@example.com.
    result = trace_address("alice+tag@alias.example", notes=NOTES)
    assert "rcpt_extension_alias" in codes(result)
    assert delivered(result) == {"alice@example.com": "deliver_maildir_lmtp"}
    # The catch-all "@example.com" answered the domain key, not the key without the
    # extension: the whole local part goes along (mail_addr_map), then is looked up there.
    result = trace_address("nobody+tag@alias.example", notes=NOTES)
    expand = [step for step in result.steps if step.stage == "expand"]
    assert expand[0].params["results"] == ["nobody+tag@example.com"]
    assert delivered(result) == {"postmaster@example.com": "deliver_maildir_lmtp"}


def test_an_alias_destination_with_an_extension_reaches_the_mailbox(world: None) -> None:
    ms.alias_create(
        actor=None, address="fwd@nocatch.example", destinations=["solo+fwd@lmtp.example"]
    )
    result = trace_address("fwd@nocatch.example", notes=NOTES)
    assert "expand_extension" in codes(result)
    assert delivered(result) == {"solo@lmtp.example": "deliver_transport"}


def test_a_delimiter_trace_costs_a_fixed_number_of_queries(
    world: None, django_assert_num_queries
) -> None:
    # The domain class (virtual_alias_domains, virtual_mailbox_domains) and mailadmin's two
    # notes on the domain; recipient_access for both keys, virtual_alias_maps and
    # virtual_alias_catchall_maps for solo+tag@ and virtual_alias_maps for solo@ at RCPT TO;
    # the note on a disabled solo+tag@ alias; then solo@'s transport_maps and the domain's.
    with django_assert_num_queries(2 + 2 + 2 + 3 + 1 + 2):
        trace_address("solo+tag@lmtp.example", notes=NOTES)
    # An address without the delimiter costs what it did.
    with django_assert_num_queries(2 + 2 + 1 + 1 + 2):
        trace_address("solo@lmtp.example", notes=NOTES)


# -- the page -----------------------------------------------------------------------------------

URL = reverse("mailboxes:trace")


def test_the_page_says_which_key_answered(client_a: Client) -> None:
    body = client_a.get(URL, {"address": "bob+tag@a.example"}).content.decode()
    assert (
        "no entry for bob+tag@a.example; bob@a.example answered in virtual_alias_maps "
        "(recipient_delimiter +)" in body
    )
    assert "bob@a.example: Dovecot LMTP delivers" in body
    assert "the catch-all @a.example" not in body


def test_the_page_names_the_split(client_a: Client, settings) -> None:
    body = client_a.get(URL, {"address": "bob+tag@a.example"}).content.decode()
    assert "bob+tag@a.example has the address extension +tag" in body
    settings.MAILADMIN_RECIPIENT_DELIMITER = ""
    body = client_a.get(URL, {"address": "bob+tag@a.example"}).content.decode()
    assert "address extension" not in body and "recipient_delimiter" not in body
    assert "the catch-all @a.example rewrites it to alice@a.example" in body


def test_the_page_still_works_for_a_disabled_domain(client_super: Client, domain_a) -> None:
    ds.domain_set_active(actor=None, domain=domain_a, active=False)
    body = client_super.get(URL, {"address": "bob+tag@a.example"}).content.decode()
    assert "Domain disabled" in body


def test_an_extension_does_not_open_another_admins_domain(client_a: Client) -> None:
    response = client_a.get(URL, {"address": "bob+tag@b.example"})
    assert response.context["result"] is None
    body = response.content.decode()
    assert "is not one of your domains" in body and "bob@b.example" not in body
