"""The trace of disabled domains, U-labels, role addresses and relay recipient lists.

The world is tests/contract/scenario.py plus a few rows here, built through the services; the
engine reads it only through the contract views with the exported Postfix queries.
"""

from __future__ import annotations

import pytest

from domains import services as ds
from domains.models import Domain, RelayRecipient, ServerSettings
from mailadmin.contract import trace
from mailadmin.contract.trace import trace_address
from mailboxes.trace_notes import ModelTraceNotes
from mailboxes.trace_text import render_trace
from tests.contract.scenario import IDN_DOMAIN, build

pytestmark = pytest.mark.django_db
# The notes the panel reads from mailadmin's tables, as the trace page hands them in.
NOTES = ModelTraceNotes()


@pytest.fixture
def world() -> None:
    build()


def codes(result: trace.Trace) -> list[str]:
    return [step.code for step in result.steps]


def delivered(result: trace.Trace) -> dict[str, str]:
    return {d.address: d.code for d in result.deliveries}


@pytest.mark.parametrize(
    "address", ["gina@inactive.example", "alice@off-alias.example", "x@nowhere.inactive.example"]
)
def test_a_disabled_domain_is_refused_not_relayed(world: None, address: str) -> None:
    if address.startswith("x@"):
        ds.domain_create(actor=None, name="nowhere.inactive.example", delivery="backup")
        ds.domain_set_active(
            actor=None, domain=Domain.objects.get(name="nowhere.inactive.example"), active=False
        )
    result = trace_address(address, notes=NOTES)
    assert result.verdict == "rejected"
    assert result.reply == f"550 5.2.1 <{address}>: Recipient address rejected: Domain disabled"
    assert "rcpt_domain_disabled" in codes(result)
    assert "for every client" in str(render_trace(result))


def test_a_u_label_is_traced_as_its_a_label(world: None) -> None:
    result = trace_address("jan@BÜCHER.example", notes=NOTES)
    assert result.address == "jan@bücher.example"
    assert codes(result)[:2] == ["domain_hosted", "domain_unicode"]
    assert result.steps[1].params == {"domain": "bücher.example", "a_label": IDN_DOMAIN}
    assert delivered(result) == {f"jan@{IDN_DOMAIN}": "deliver_maildir_lmtp"}
    assert f"the rows of {IDN_DOMAIN}" in str(render_trace(result))


def test_postmaster_of_a_domain_without_catch_all_goes_to_the_server(world: None) -> None:
    result = trace_address("postmaster@nocatch.example", notes=NOTES)
    assert result.verdict == "accepted"
    assert "rcpt_in_alias_maps" in codes(result)
    assert "note_role_fallback" in codes(result)
    assert delivered(result) == {"postmaster@localhost": "deliver_local"}
    # Its own mailbox wins, and no note is added.
    own = trace_address("postmaster@example.com", notes=NOTES)
    assert "note_role_fallback" not in codes(own)
    assert delivered(own) == {"postmaster@example.com": "deliver_maildir_lmtp"}


def test_the_fallback_is_off_without_a_server_postmaster(world: None) -> None:
    ServerSettings.objects.filter(id=1).update(postmaster_address="")
    result = trace_address("postmaster@nocatch.example", notes=NOTES)
    assert result.verdict == "rejected"
    assert result.reply.endswith("User unknown in virtual mailbox table")


def test_relay_recipients_are_accepted_and_others_refused(world: None) -> None:
    relay = Domain.objects.get(name="relay.example")
    RelayRecipient.objects.create(domain=relay, local_part="listed")
    accepted = trace_address("listed@relay.example", notes=NOTES)
    assert accepted.verdict == "accepted"
    assert "rcpt_relay_accepted" in codes(accepted)
    refused = trace_address("other@relay.example", notes=NOTES)
    assert refused.verdict == "rejected"
    assert refused.reply == (
        "550 5.1.1 <other@relay.example>: Recipient address rejected: "
        "User unknown in relay recipient table"
    )
    assert "rcpt_unknown_relay" in codes(refused)
    Domain.objects.filter(pk=relay.pk).update(relay_accept_any=True)
    assert trace_address("other@relay.example", notes=NOTES).verdict == "accepted"


def test_every_writer_keeps_the_unicode_key() -> None:
    """The import writes domains with bulk_create; the key is set there too (pre_save)."""
    Domain.objects.bulk_create([Domain(name="xn--mnchen-3ya.example"), Domain(name="plain.test")])
    keys = dict(Domain.objects.values_list("name", "unicode_key"))
    assert keys == {"xn--mnchen-3ya.example": "münchen.example", "plain.test": None}
    domain = ds.domain_create(actor=None, name="STRAẞE.example")  # folds to ASCII: no key
    assert domain.name == "xn--strae-oqa.example"
    assert domain.unicode_key is None
