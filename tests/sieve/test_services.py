"""The vacation, filter-rule and spam writes: their rules, what a refusal leaves (nothing), the
audit, and the script they publish for Dovecot (compiled by the real sievec)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.models import AuditEntry
from domains.models import OwnerForwarding
from mailadmin.contract.views_v1 import DEFAULT_SIEVE_ID, DEFAULT_SIEVE_SCRIPT
from mailboxes.models import Mailbox
from mailboxes.services import mailbox_delete
from selfservice.services import domain_set_owner_forwarding, owner_set_forwarding
from sieve import rules, services
from sieve.models import FilterRule, SieveScript, SieveSettings, Vacation
from sieve.selectors import answerable_addresses, filter_rules_of, script_text, vacation_of
from tests.sieve.pigeonhole import Pigeonhole, message
from tests.sieve.support import refused, state

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def vacation(mailbox: Mailbox, **kwargs: Any) -> Vacation:
    values: dict[str, Any] = {"subject": "Away", "body": "I am away."}
    values.update(kwargs)
    return services.vacation_set(actor=None, mailbox=mailbox, **values)


def add_rule(mailbox: Mailbox, **kwargs: Any) -> FilterRule:
    values: dict[str, Any] = {
        "condition": "subject",
        "match": "contains",
        "value": "report",
        "action": "fileinto",
        "folder": "Reports",
    }
    values.update(kwargs)
    return services.filter_rule_create(actor=None, mailbox=mailbox, **values)


def stored_script(mailbox: Mailbox) -> str | None:
    row = SieveScript.objects.filter(mailbox=mailbox).first()
    return row.script if row else None


def dovecot_view(username: str) -> tuple[str, str]:
    """(data_id, script) as Dovecot's dict reads them through the contract view."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data_id, script FROM mailadmin_dovecot_sieve WHERE username = %s AND name = %s",
            [username, "panel"],
        )
        row = cursor.fetchone()
    assert row is not None
    return row[0], row[1]


# --- addresses ----------------------------------------------------------------------------------


def test_answerable_addresses_are_the_mailboxs_own_aliases_and_alias_domain_forms(
    alice: Mailbox, bob: Mailbox, carol: Mailbox
) -> None:
    # The catch-all delivers to alice too, but has no address to answer for.
    assert answerable_addresses(alice) == [
        "alice@a.example",
        "alice@alias-a.example",
        "sales@a.example",
        "sales@alias-a.example",
    ]
    assert answerable_addresses(bob)[:2] == ["bob@a.example", "bob@alias-a.example"]
    assert answerable_addresses(carol) == ["carol@b.example"]


# --- the vacation reply -------------------------------------------------------------------------


def test_vacation_set_publishes_a_script_dovecot_reads(
    alice: Mailbox, bob: Mailbox, pigeonhole: Pigeonhole
) -> None:
    vacation(alice, days=3, end=TODAY + timedelta(days=10))
    text = stored_script(alice)
    assert text is not None and text == script_text(alice)
    assert ':from "alice@a.example"' in text and ":days 3" in text
    assert '"sales@alias-a.example"' in text  # no choice: every address of the mailbox
    row = SieveScript.objects.get(mailbox=alice)
    assert row.data_id == hashlib.sha256(text.encode()).hexdigest()[:32]
    assert dovecot_view("alice@a.example") == (row.data_id, text)
    assert dovecot_view("bob@a.example") == (DEFAULT_SIEVE_ID, DEFAULT_SIEVE_SCRIPT)
    pigeonhole.compile(text)
    outcome = pigeonhole.run(text, message(to="sales@a.example"), recipient="alice@a.example")
    assert outcome.vacation_sent and outcome.vacation_field("subject") == "Away"


def test_a_changed_script_gets_a_new_id_and_the_default_deletes_the_row(alice: Mailbox) -> None:
    vacation(alice)
    first = SieveScript.objects.get(mailbox=alice).data_id
    vacation(alice, subject="Away again")
    second = SieveScript.objects.get(mailbox=alice).data_id
    assert first != second
    services.vacation_off(actor=None, mailbox=alice)
    assert not SieveScript.objects.filter(mailbox=alice).exists()
    assert dovecot_view("alice@a.example") == (DEFAULT_SIEVE_ID, DEFAULT_SIEVE_SCRIPT)


def test_vacation_off_keeps_the_text_for_next_time(alice: Mailbox) -> None:
    vacation(alice, subject="Summer", body="Back in August.", addresses=["sales@a.example"])
    off = services.vacation_off(actor=None, mailbox=alice)
    assert off is not None and not off.enabled
    kept = vacation_of(alice)
    assert kept is not None
    assert (kept.subject, kept.body, kept.addresses) == (
        "Summer",
        "Back in August.",
        ["sales@a.example"],
    )
    # A second "off" and an "off" without a reply change nothing and audit nothing.
    entries = AuditEntry.objects.count()
    assert services.vacation_off(actor=None, mailbox=alice) is not None
    assert AuditEntry.objects.count() == entries


def test_vacation_off_without_a_reply(bob: Mailbox) -> None:
    before = state()
    assert services.vacation_off(actor=None, mailbox=bob) is None
    assert state() == before


def test_chosen_addresses_are_kept_in_the_mailboxs_order(alice: Mailbox) -> None:
    saved = vacation(alice, addresses=["Sales@Alias-A.example", "alice@a.example", " "])
    assert saved.addresses == ["alice@a.example", "sales@alias-a.example"]
    text = stored_script(alice) or ""
    assert ':addresses ["alice@a.example", "sales@alias-a.example"]' in text
    assert 'address :is ["to", "cc", "bcc"' in text


def test_the_body_gets_plain_line_breaks(alice: Mailbox) -> None:
    saved = vacation(alice, body="\r\nLine one\r\nLine two\rLine three\n\n")
    assert saved.body == "Line one\nLine two\nLine three"


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"subject": "  "}, "subject", "Give the reply a subject"),
        ({"subject": "Away\nBcc: x@example.net"}, "subject", "not allowed: U+000A"),
        ({"subject": "x" * 256}, "subject", "At most 255 characters"),
        ({"body": " \n "}, "body", "Write the text"),
        ({"body": "a\0b"}, "body", "not allowed: U+0000"),
        ({"body": "x" * 10_001}, "body", "at most 10000 characters"),
        ({"days": 0}, "days", "from 1 to 60"),
        ({"days": 61}, "days", "from 1 to 60"),
        ({"start": TODAY, "end": TODAY - timedelta(days=1)}, "end", "comes before the first"),
        ({"end": TODAY - timedelta(days=1)}, "end", "has passed"),
        ({"addresses": ["carol@b.example"]}, "addresses", "not an address of this mailbox"),
        ({"addresses": ["info@a.example"]}, "addresses", "not an address of this mailbox"),
        ({"addresses": ["not an address"]}, "addresses", "is not an e-mail address"),
    ],
)
def test_vacation_refuses_and_changes_nothing(
    alice: Mailbox, kwargs: dict[str, Any], field: str, words: str
) -> None:
    values: dict[str, Any] = {"actor": None, "mailbox": alice, "subject": "Away", "body": "Gone"}
    values.update(kwargs)
    errors = refused(services.vacation_set, **values)
    assert list(errors) == [field], errors
    assert words in " ".join(errors[field])


def test_a_refused_change_leaves_the_reply_as_it_was(alice: Mailbox) -> None:
    vacation(alice)
    errors = refused(services.vacation_set, actor=None, mailbox=alice, subject="", body="", days=99)
    assert set(errors) == {"subject", "body", "days"}  # every field's message at once


def test_a_switched_off_reply_may_keep_its_past_dates(alice: Mailbox) -> None:
    past = TODAY - timedelta(days=3)
    saved = vacation(alice, start=past - timedelta(days=9), end=past, enabled=False)
    assert not saved.enabled
    assert stored_script(alice) is None


def test_vacation_audit(alice: Mailbox) -> None:
    vacation(alice, end=TODAY)
    vacation(alice, end=TODAY, body="Changed text.")
    services.vacation_set(
        actor=None, mailbox=alice, subject="Away", body="Changed text.", by_owner=True
    )
    services.vacation_off(actor=None, mailbox=alice, by_owner=True)
    entries = list(AuditEntry.objects.filter(object_type="vacation").order_by("id"))
    assert [(e.action, e.actor_label, e.domain) for e in entries] == [
        ("create", "system", "a.example"),
        ("update", "system", "a.example"),
        ("update", "alice@a.example", "a.example"),
        ("disable", "alice@a.example", "a.example"),
    ]
    assert entries[0].changes == {
        "enabled": True,
        "start": None,
        "end": TODAY.isoformat(),
        "subject": "Away",
        "days": 7,
        "addresses": [],
    }
    assert entries[1].changes == {"body": "changed"}
    assert entries[2].changes == {"end": [TODAY.isoformat(), None]}
    assert entries[3].object_repr == "alice@a.example"


# --- spam to Junk -------------------------------------------------------------------------------


def test_spam_to_junk_switch(alice: Mailbox, pigeonhole: Pigeonhole) -> None:
    before = state()
    assert services.spam_to_junk_set(actor=None, mailbox=alice, enabled=True) is True
    assert state() == before  # already the default: nothing written
    services.spam_to_junk_set(actor=None, mailbox=alice, enabled=False, by_owner=True)
    text = stored_script(alice)
    assert text is not None and "fileinto" not in text
    pigeonhole.compile(text)
    spam = message(to="alice@a.example", headers={"X-Spam-Flag": "YES"})
    assert pigeonhole.run(text, spam, recipient="alice@a.example").folders == ["INBOX"]
    entry = AuditEntry.objects.get(object_type="sievesettings")
    assert (entry.action, entry.actor_label, entry.changes) == (
        "update",
        "alice@a.example",
        {"spam_to_junk": [True, False]},
    )
    services.spam_to_junk_set(actor=None, mailbox=alice, enabled=True)
    assert stored_script(alice) is None


# --- filter rules -------------------------------------------------------------------------------


def test_rules_are_kept_in_order_and_rendered_as_one_chain(
    alice: Mailbox, pigeonhole: Pigeonhole
) -> None:
    first = add_rule(alice, condition="sender", value="boss", folder="Boss")
    second = add_rule(alice)
    third = add_rule(alice, action="discard", folder="", enabled=False)
    assert [r.position for r in filter_rules_of(alice)] == [0, 1, 2]
    text = stored_script(alice) or ""
    assert text.index('"Boss"') < text.index('"Reports"')
    assert "discard" not in text  # switched off
    pigeonhole.compile(text)
    mail = message(sender="boss@corp.example", to="alice@a.example", subject="report")
    assert pigeonhole.run(text, mail, recipient="alice@a.example").folders == ["Boss"]
    services.filter_rule_update(actor=None, mailbox=alice, rule=third, enabled=True)
    assert "discard;" in (stored_script(alice) or "")
    services.filter_rule_move(actor=None, mailbox=alice, rule=second, position=0)
    assert [r.pk for r in filter_rules_of(alice)] == [second.pk, first.pk, third.pk]
    assert pigeonhole.run(
        stored_script(alice) or "", mail, recipient="alice@a.example"
    ).folders == ["Reports"]
    services.filter_rule_move(actor=None, mailbox=alice, rule=second.pk, position=2)
    assert [r.pk for r in filter_rules_of(alice)] == [first.pk, third.pk, second.pk]
    services.filter_rule_delete(actor=None, mailbox=alice, rule=first)
    assert [(r.pk, r.position) for r in filter_rules_of(alice)] == [(third.pk, 0), (second.pk, 1)]
    services.filter_rule_delete(actor=None, mailbox=alice, rule=third)
    services.filter_rule_delete(actor=None, mailbox=alice, rule=second)
    assert stored_script(alice) is None  # back to the default


def test_update_checks_the_whole_rule_again(alice: Mailbox) -> None:
    made = add_rule(alice)
    # Turning a "file into" rule into a "discard" one drops its folder.
    changed = services.filter_rule_update(actor=None, mailbox=alice, rule=made, action="discard")
    assert (changed.action, changed.folder) == ("discard", "")
    errors = refused(
        services.filter_rule_update, actor=None, mailbox=alice, rule=made, action="fileinto"
    )
    assert errors == {"folder": ["Name the folder."]}
    audit = AuditEntry.objects.filter(object_type="filterrule").order_by("id")
    assert [e.action for e in audit] == ["create", "update"]
    assert audit[1].changes == {"action": ["fileinto", "discard"], "folder": ["Reports", ""]}
    assert audit[1].object_repr == "alice@a.example #1"


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"condition": "body"}, "condition", "Choose the sender"),
        ({"match": "regex"}, "match", "Choose “contains” or “is”"),
        ({"action": "reject"}, "action", "Choose to file into"),
        ({"value": " "}, "value", "Give the text to look for"),
        ({"value": "a\nb"}, "value", "not allowed"),
        ({"value": "x" * 256}, "value", "At most 255"),
        ({"condition": "sender", "match": "is", "value": "boss"}, "value", "whole addresses"),
        ({"condition": "recipient", "match": "is", "value": "@corp"}, "value", "whole address"),
        ({"condition": "header", "header_name": ""}, "header_name", "Name the header"),
        ({"condition": "header", "header_name": "X Mailer"}, "header_name", "without spaces"),
        ({"condition": "header", "header_name": "X-A:b"}, "header_name", "without spaces"),
        ({"condition": "header", "header_name": "X-Ü"}, "header_name", "without spaces"),
        ({"folder": ""}, "folder", "Name the folder"),
        ({"folder": "/Work"}, "folder", "separate folders"),
        ({"folder": "Work/"}, "folder", "separate folders"),
        ({"folder": "Work.."}, "folder", "separate folders"),
        ({"folder": "Work//Boss"}, "folder", "separate folders"),
        ({"folder": ".hidden"}, "folder", "separate folders"),
        ({"folder": "~root"}, "folder", "separate folders"),
        ({"folder": "Work*"}, "folder", "“*” or “%”"),
        ({"folder": "100%"}, "folder", "“*” or “%”"),
        ({"folder": "Wo\u202erk"}, "folder", "not allowed: U+202E"),
        ({"folder": "x" * 201}, "folder", "At most 200"),
        ({"action": "forward", "folder": "", "forward_to": ""}, "forward_to", "Give the address"),
        ({"action": "forward", "forward_to": "nobody"}, "forward_to", "not an e-mail address"),
    ],
)
def test_rule_refuses_and_changes_nothing(
    alice: Mailbox, kwargs: dict[str, Any], field: str, words: str
) -> None:
    values: dict[str, Any] = {
        "actor": None,
        "mailbox": alice,
        "condition": "subject",
        "match": "contains",
        "value": "report",
        "action": "fileinto",
        "folder": "Reports",
    }
    values.update(kwargs)
    errors = refused(services.filter_rule_create, **values)
    assert list(errors) == [field], errors
    assert words in " ".join(errors[field])


def test_folder_names_that_are_fine(alice: Mailbox, pigeonhole: Pigeonhole) -> None:
    for name in ("Work/Boss", "Work.Boss", "Mr. Smith", "Рахунки", "Archive 2024", "INBOX"):
        add_rule(alice, folder=name)
    pigeonhole.compile(stored_script(alice) or "")


def test_unused_fields_are_emptied(alice: Mailbox) -> None:
    made = add_rule(alice, header_name="X-Ignored", forward_to="x@example.net", keep_copy=True)
    assert (made.header_name, made.forward_to, made.keep_copy) == ("", "", False)


def test_a_mailbox_has_at_most_max_rules(alice: Mailbox) -> None:
    for number in range(rules.MAX_RULES):
        add_rule(alice, value=f"report {number}")
    errors = refused(
        services.filter_rule_create,
        actor=None,
        mailbox=alice,
        condition="subject",
        match="contains",
        value="one more",
        action="discard",
    )
    assert errors == {"__all__": ["A mailbox can have at most 50 filter rules."]}


def test_move_refuses_a_place_that_does_not_exist(alice: Mailbox) -> None:
    made = add_rule(alice)
    add_rule(alice)
    errors = refused(services.filter_rule_move, actor=None, mailbox=alice, rule=made, position=2)
    assert errors == {"position": ["Choose a place from 1 to 2."]}


# --- forwarding follows the owners' policy --------------------------------------------------------


def forward(mailbox: Mailbox, to: str, **kwargs: Any) -> FilterRule:
    return add_rule(mailbox, action="forward", folder="", forward_to=to, **kwargs)


def owner_page_message(mailbox: Mailbox, to: str) -> str:
    """What the owners' forwarding page says for the same destination."""
    with pytest.raises(ValidationError) as info, transaction.atomic():
        owner_set_forwarding(mailbox=mailbox, destinations=[to], keep_copy=False)
    return " ".join(info.value.message_dict["destinations"])


def forward_refused(mailbox: Mailbox, to: str) -> str:
    errors = refused(
        services.filter_rule_create,
        actor=None,
        mailbox=mailbox,
        condition="subject",
        match="contains",
        value="x",
        action="forward",
        forward_to=to,
    )
    assert list(errors) == ["forward_to"], errors
    return " ".join(errors["forward_to"])


@pytest.mark.parametrize(
    ("policy", "to"),
    [
        (OwnerForwarding.OFF, "boss@example.net"),
        (OwnerForwarding.LOCAL, "boss@example.net"),
        (OwnerForwarding.ANY, "alice@alias-a.example"),  # its own address, another form
    ],
)
def test_forwarding_rules_obey_the_owner_forwarding_policy(
    alice: Mailbox, policy: str, to: str
) -> None:
    domain_set_owner_forwarding(
        actor=None, domain=alice.domain, owner_forwarding=policy, max_forwards=0
    )
    alice.refresh_from_db()
    said = forward_refused(alice, to)
    assert said == owner_page_message(alice, to)


def test_local_forwarding_reaches_this_servers_domains(alice: Mailbox) -> None:
    domain_set_owner_forwarding(
        actor=None, domain=alice.domain, owner_forwarding=OwnerForwarding.LOCAL, max_forwards=0
    )
    made = forward(alice, "Carol@B.example", keep_copy=True)
    assert (made.forward_to, made.keep_copy) == ("carol@b.example", True)
    assert 'redirect :copy "carol@b.example";' in (stored_script(alice) or "")


def test_the_forwarding_rules_count_together_against_max_forwards(alice: Mailbox) -> None:
    domain_set_owner_forwarding(
        actor=None, domain=alice.domain, owner_forwarding=OwnerForwarding.ANY, max_forwards=2
    )
    forward(alice, "one@example.net")
    second = forward(alice, "two@example.net")
    forward(alice, "one@example.net")  # the same address again is no new one
    assert "at most 2 addresses" in forward_refused(alice, "three@example.net")
    # A rule's own old address does not count against its new one.
    services.filter_rule_update(actor=None, mailbox=alice, rule=second, forward_to="new@x.net")


def test_a_policy_tightened_later_applies_to_the_next_change(alice: Mailbox) -> None:
    made = forward(alice, "boss@example.net")
    domain_set_owner_forwarding(
        actor=None, domain=alice.domain, owner_forwarding=OwnerForwarding.OFF, max_forwards=0
    )
    errors = refused(
        services.filter_rule_update, actor=None, mailbox=alice, rule=made, value="other"
    )
    assert errors == {"forward_to": ["Your mail administrator does not allow forwarding."]}
    # Turning it into a rule that does not forward is allowed.
    services.filter_rule_update(
        actor=None, mailbox=alice, rule=made, action="fileinto", folder="Boss"
    )


# --- the database holds the rules that must never break -----------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"condition": "body"},
        {"match": "regex"},
        {"action": "reject", "folder": ""},
        {"value": ""},
        {"condition": "header"},  # no header name
        {"header_name": "X-Stray"},  # a header name without a header condition
        {"folder": ""},
        {"action": "forward", "folder": "", "forward_to": "nobody"},
        {"action": "discard", "folder": "", "keep_copy": True},
    ],
)
def test_constraints_back_the_rules(alice: Mailbox, fields: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "mailbox": alice,
        "position": 0,
        "condition": "subject",
        "match": "contains",
        "value": "report",
        "action": "fileinto",
        "folder": "Reports",
    }
    values.update(fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        FilterRule.objects.create(**values)


def test_constraints_keep_one_rule_per_place_and_the_reply_in_bounds(alice: Mailbox) -> None:
    add_rule(alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        FilterRule.objects.create(
            mailbox=alice, position=0, condition="subject", match="is", value="x", action="discard"
        )
    for bad in (
        {"days": 0},
        {"days": 61},
        {"subject": ""},
        {"start": TODAY, "end": TODAY - timedelta(1)},
    ):
        values: dict[str, Any] = {"mailbox": alice, "subject": "a", "body": "b", "days": 7}
        values.update(bad)
        with pytest.raises(IntegrityError), transaction.atomic():
            Vacation.objects.create(**values)


def test_deleting_the_mailbox_takes_its_filters_and_reply(alice: Mailbox, bob: Mailbox) -> None:
    vacation(alice)
    add_rule(alice)
    services.spam_to_junk_set(actor=None, mailbox=alice, enabled=False)
    add_rule(bob)
    mailbox_delete(actor=None, mailbox=alice)
    for model in (Vacation, FilterRule, SieveSettings, SieveScript):
        assert not model.objects.filter(mailbox_id=alice.pk).exists()
    assert FilterRule.objects.filter(mailbox=bob).count() == 1
