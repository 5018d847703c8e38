"""The address-trace engine against the real test database (PostgreSQL in CI).

The world is tests/contract/scenario.py, built here through the services; the engine reads it
only through the contract views with the exported Postfix queries.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from domains.models import Domain
from mailadmin.contract import trace
from mailadmin.contract.trace import expand_query, trace_address
from mailboxes import services as ms
from mailboxes.models import Alias, AliasDestination
from mailboxes.trace_notes import ModelTraceNotes
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


def test_expand_query_binds_the_key_parts_as_parameters() -> None:
    sql, params, suppressed = expand_query(
        "SELECT x FROM t WHERE domain = lower('%d') AND local_part = lower('%u')", "o'b@ex.com"
    )
    assert sql == "SELECT x FROM t WHERE domain = lower(%s) AND local_part = lower(%s)"
    assert params == ["ex.com", "o'b"]
    assert not suppressed


@pytest.mark.parametrize(
    ("template", "key"),
    [
        ("SELECT 1 WHERE a = '%u'", "@example.com"),  # empty local part
        ("SELECT 1 WHERE a = '%d'", "example.com"),  # no domain part
    ],
)
def test_expand_query_suppresses_what_postfix_suppresses(template: str, key: str) -> None:
    assert expand_query(template, key)[2]


def test_expand_query_refuses_an_unquoted_placeholder() -> None:
    with pytest.raises(ValueError, match="unquoted"):
        expand_query("SELECT 1 WHERE a = %s", "x@y.z")


def test_mailbox_maildir_with_owner_override(world: None) -> None:
    result = trace_address("alice@example.com", notes=NOTES)
    assert result.verdict == "accepted"
    assert codes(result)[:2] == ["domain_hosted", "rcpt_in_alias_maps"]
    assert "expand_mailbox_self" in codes(result) and "expand_self" not in codes(result)
    step = result.steps[-1]
    assert step.code == "deliver_maildir_lmtp"
    assert step.params["path"] == "example.com/alice/"
    assert (step.params["uid"], step.params["gid"]) == ("3001", "3002")
    assert str(step.params["full_path"]).endswith("/example.com/alice/")


def test_with_virtual_delivery_virtual8_delivers(world: None, settings: Any) -> None:
    """MAILADMIN_DELIVERY=virtual (export_maps --delivery virtual): the trace says virtual(8)."""
    settings.MAILADMIN_DELIVERY = "virtual"
    result = trace_address("alice@example.com", notes=NOTES)
    assert result.steps[-1].code == "deliver_maildir"
    assert trace_address("bob@example.com", notes=NOTES).steps[-1].code == "deliver_mbox"


def test_mbox_mailbox(world: None) -> None:
    step = trace_address("bob@example.com", notes=NOTES).steps[-1]
    assert step.code == "deliver_mbox_lmtp"
    assert step.params["path"] == "example.com/bob/mbox"
    assert (step.params["uid"], step.params["gid"]) == ("2001", "2002")


def test_unknown_user_without_catchall_is_rejected_at_rcpt(world: None) -> None:
    result = trace_address("nobody@nocatch.example", notes=NOTES)
    assert result.verdict == "rejected"
    assert result.reply == (
        "550 5.1.1 <nobody@nocatch.example>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    assert result.deliveries == []


def test_unknown_user_goes_to_the_catchall(world: None) -> None:
    result = trace_address("nobody@example.com", notes=NOTES)
    assert result.verdict == "accepted"
    assert "rcpt_catchall" in codes(result)
    expand = next(s for s in result.steps if s.code == "expand_catchall")
    assert expand.params["key"] == "@example.com"
    assert expand.params["results"] == ["postmaster@example.com"]
    assert delivered(result) == {"postmaster@example.com": "deliver_maildir_lmtp"}


def test_inactive_alias_falls_to_the_catchall_and_says_why(world: None) -> None:
    result = trace_address("old@example.com", notes=NOTES)
    assert delivered(result) == {"postmaster@example.com": "deliver_maildir_lmtp"}
    assert "note_alias_inactive" in codes(result)


def test_foreign_domain_is_relay_access_denied(world: None) -> None:
    result = trace_address("someone@elsewhere.net", notes=NOTES)
    assert result.verdict == "rejected"
    assert result.reply == "554 5.7.1 <someone@elsewhere.net>: Relay access denied"


def test_inactive_domain_stays_ours_refuses_and_is_explained(world: None) -> None:
    result = trace_address("gina@inactive.example", notes=NOTES)
    assert result.verdict == "rejected"
    assert result.reply == (
        "550 5.2.1 <gina@inactive.example>: Recipient address rejected: Domain disabled"
    )
    assert codes(result)[:3] == ["domain_hosted", "note_domain_inactive", "rcpt_domain_disabled"]


def test_inactive_mailbox_is_refused_at_rcpt_by_the_recipient_access_table(world: None) -> None:
    for address in ("carol@example.com", "carol@alias.example"):
        result = trace_address(address, notes=NOTES)
        assert result.verdict == "rejected"
        assert result.reply == (
            f"550 5.2.1 <{address}>: Recipient address rejected: Mailbox disabled"
        )
        assert "rcpt_access_refused" in codes(result)
    assert "note_mailbox_inactive" in codes(trace_address("carol@example.com", notes=NOTES))


def test_alias_with_several_destinations(world: None) -> None:
    result = trace_address("team@example.com", notes=NOTES)
    assert delivered(result) == {
        "alice@example.com": "deliver_maildir_lmtp",
        "bob@example.com": "deliver_mbox_lmtp",
        "ext@elsewhere.net": "deliver_external",
    }


def test_alias_keeping_a_copy_expands_to_itself_once(world: None) -> None:
    result = trace_address("dave@example.com", notes=NOTES)
    assert "expand_self" in codes(result)
    assert delivered(result) == {
        "dave@example.com": "deliver_maildir_lmtp",
        "dave@elsewhere.net": "deliver_external",
    }


def test_alias_domain_rewrites_to_the_target(world: None) -> None:
    result = trace_address("alice@alias.example", notes=NOTES)
    assert codes(result)[:2] == ["domain_alias", "rcpt_in_alias_maps"]
    assert delivered(result) == {"alice@example.com": "deliver_maildir_lmtp"}


def test_alias_domain_unknown_user_is_rejected_in_the_alias_table(world: None) -> None:
    result = trace_address("nobody@alias-nocatch.example", notes=NOTES)
    assert result.reply.endswith("User unknown in virtual alias table")


def test_alias_domain_catchall_follows_the_target(world: None) -> None:
    result = trace_address("nobody@alias.example", notes=NOTES)
    assert delivered(result) == {"postmaster@example.com": "deliver_maildir_lmtp"}


def test_transport_override_hands_to_lmtp(world: None) -> None:
    step = trace_address("ivan@transported.example", notes=NOTES).steps[-1]
    assert step.code == "deliver_transport"
    assert step.params["transport"] == "lmtp:unix:private/dovecot-lmtp"


def test_relay_and_backup_domains(world: None) -> None:
    # A new relay or backup domain accepts only its listed recipients; these accept any.
    Domain.objects.filter(delivery__in=["relay", "backup"]).update(relay_accept_any=True)
    relay = trace_address("x@relay.example", notes=NOTES)
    assert relay.verdict == "accepted"
    assert relay.steps[-1].code == "deliver_relay"
    assert relay.steps[-1].params["transport"] == "smtp:[mx.relay.example]:25"
    assert trace_address("x@backup.example", notes=NOTES).steps[-1].code == "deliver_relay_mx"


def test_idn_domain(world: None) -> None:
    result = trace_address(f"jan@{IDN_DOMAIN}", notes=NOTES)
    assert delivered(result) == {f"jan@{IDN_DOMAIN}": "deliver_maildir_lmtp"}


def loop_rows() -> None:
    """ping <-> pong, as an import or an older panel could have left them: the services refuse
    to write a loop (mailboxes/loops.py)."""
    domain = Domain.objects.get(name="nocatch.example")
    for local, other in (("ping", "pong"), ("pong", "ping")):
        alias = Alias.objects.create(domain=domain, local_part=local)
        AliasDestination.objects.create(alias=alias, address=f"{other}@nocatch.example")


def test_the_services_refuse_the_loop(world: None) -> None:
    # pong must exist before ping may point to it (mailboxes/unknown_destinations.py).
    pong = ms.alias_create(
        actor=None, address="pong@nocatch.example", destinations=["x@elsewhere.example"]
    )
    ms.alias_create(
        actor=None, address="ping@nocatch.example", destinations=["pong@nocatch.example"]
    )
    with pytest.raises(ValidationError, match="would go round a loop"):
        ms.alias_set_destinations(actor=None, alias=pong, destinations=["ping@nocatch.example"])


def test_alias_loop_defers_like_cleanup(world: None) -> None:
    loop_rows()
    result = trace_address("ping@nocatch.example", notes=NOTES)
    assert result.verdict == "deferred"
    assert codes(result)[-1] == "expand_loop"
    # Each address is looked up once, however many times cleanup would rewrite it.
    keys = [
        lookup.key
        for step in result.steps
        if step.stage == "expand"
        for lookup in step.lookups
        if lookup.table == "virtual_alias_maps"
    ]
    assert len(keys) == len(set(keys))


def test_hidden_domain_stops_the_trace(world: None) -> None:
    result = trace_address(
        "team@example.com", may_see=lambda domain: domain != "example.com", notes=NOTES
    )
    # The starting domain is the caller's to check; inside, example.com is not shown.
    assert all(d.code == "deliver_hidden" for d in result.deliveries if "example.com" in d.address)


def test_alias_domain_catchall_rewrites_to_the_same_user_in_the_target(world: None) -> None:
    """The catch-all of alias.example answers "@example.com": the same user there (RESULT
    ADDRESS REWRITING in virtual(5)), which cleanup then looks up like any address."""
    result = trace_address("nobody@alias.example", notes=NOTES)
    expand = [step for step in result.steps if step.stage == "expand"]
    assert expand[0].params["results"] == ["nobody@example.com"]
    assert expand[1].params["address"] == "nobody@example.com"
    assert expand[1].code == "expand_catchall"
    assert delivered(result) == {"postmaster@example.com": "deliver_maildir_lmtp"}


def test_a_wide_alias_is_traced_up_to_the_limit(world: None) -> None:
    domain = Domain.objects.get(name="nocatch.example")
    wide = Alias.objects.create(domain=domain, local_part="wide")
    AliasDestination.objects.bulk_create(
        AliasDestination(alias=wide, address=f"w{i}@elsewhere.net") for i in range(999)
    )
    result = trace_address("wide@nocatch.example", notes=NOTES)
    assert result.verdict == "partial"
    assert result.untraced == 999 - trace.TRACE_LIMIT
    assert len(result.deliveries) == trace.TRACE_LIMIT
    assert codes(result).count("expand_none") == trace.TRACE_LIMIT
    assert "expand_not_traced" in codes(result)
    # Postfix's own limit still shows: one more destination than it expands is a deferral.
    AliasDestination.objects.bulk_create(
        AliasDestination(alias=wide, address=f"v{i}@elsewhere.net") for i in range(2)
    )
    result = trace_address("wide@nocatch.example", notes=NOTES)
    assert result.verdict == "deferred"
    assert codes(result)[-1] == "expand_too_many"
