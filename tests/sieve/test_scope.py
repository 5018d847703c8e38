"""Who may write a mailbox's filters and vacation reply: a superadmin anywhere, a domain admin
in their domains only, an owner (actor None with the mailbox of their session) only their
own mailbox's rules. Every refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.http import Http404

from mailboxes.models import Mailbox
from sieve import services
from sieve.models import FilterRule
from sieve.selectors import filter_rule_get
from tests.sieve.support import state

pytestmark = pytest.mark.django_db

RULE: dict[str, Any] = {
    "condition": "subject",
    "match": "contains",
    "value": "report",
    "action": "fileinto",
    "folder": "Reports",
}


def writes(mailbox: Mailbox, rule: FilterRule) -> list[tuple[Callable[..., Any], dict[str, Any]]]:
    """Every write of the sieve services on `mailbox` (the rule ones on `rule`)."""
    return [
        (services.vacation_set, {"mailbox": mailbox, "subject": "Away", "body": "Gone."}),
        (services.vacation_off, {"mailbox": mailbox}),
        (services.spam_to_junk_set, {"mailbox": mailbox, "enabled": False}),
        (services.filter_rule_create, {"mailbox": mailbox, **RULE}),
        (services.filter_rule_update, {"mailbox": mailbox, "rule": rule, "value": "x"}),
        (services.filter_rule_move, {"mailbox": mailbox, "rule": rule, "position": 0}),
        (services.filter_rule_delete, {"mailbox": mailbox, "rule": rule}),
    ]


@pytest.fixture
def carols_rule(carol: Mailbox) -> FilterRule:
    return services.filter_rule_create(actor=None, mailbox=carol, **RULE)


@pytest.fixture
def alices_rule(alice: Mailbox) -> FilterRule:
    return services.filter_rule_create(actor=None, mailbox=alice, **RULE)


def test_a_domain_admin_cannot_touch_another_domains_mailbox(
    admin_a, carol: Mailbox, carols_rule: FilterRule
) -> None:
    for write, kwargs in writes(carol, carols_rule):
        before = state()
        with pytest.raises(Mailbox.DoesNotExist):
            write(actor=admin_a, **kwargs)
        assert state() == before, write.__name__


def test_a_domain_admin_writes_in_their_domain(admin_a, alice: Mailbox) -> None:
    made = services.filter_rule_create(actor=admin_a, mailbox=alice, **RULE)
    services.vacation_set(actor=admin_a, mailbox=alice, subject="Away", body="Gone.")
    services.filter_rule_update(actor=admin_a, mailbox=alice, rule=made, enabled=False)
    services.filter_rule_delete(actor=admin_a, mailbox=alice, rule=made)
    assert not FilterRule.objects.filter(mailbox=alice).exists()


def test_a_superadmin_writes_anywhere(superadmin, alice: Mailbox, carol: Mailbox) -> None:
    for mailbox in (alice, carol):
        services.vacation_set(actor=superadmin, mailbox=mailbox, subject="Away", body="Gone.")
        services.spam_to_junk_set(actor=superadmin, mailbox=mailbox, enabled=False)


@pytest.mark.parametrize("actor", ["owner", "admin_a", "superadmin"])
def test_a_rule_is_written_only_through_its_own_mailbox(
    request: pytest.FixtureRequest,
    actor: str,
    alice: Mailbox,
    bob: Mailbox,
    alices_rule: FilterRule,
) -> None:
    """Bob's owner (or an admin acting on bob) cannot reach alice's rule by its id, though
    both mailboxes are in the same domain."""
    who = None if actor == "owner" else request.getfixturevalue(actor)
    for write, kwargs in writes(bob, alices_rule)[4:]:
        before = state()
        with pytest.raises(FilterRule.DoesNotExist):
            write(actor=who, by_owner=actor == "owner", **kwargs)
        assert state() == before, write.__name__
    assert FilterRule.objects.get(pk=alices_rule.pk).value == "report"


def test_the_rule_selector_is_a_404_for_another_mailboxs_rule(
    alice: Mailbox, bob: Mailbox, alices_rule: FilterRule
) -> None:
    assert filter_rule_get(mailbox=alice, pk=alices_rule.pk) == alices_rule
    with pytest.raises(Http404):
        filter_rule_get(mailbox=bob, pk=alices_rule.pk)
    with pytest.raises(Http404):
        filter_rule_get(mailbox=alice, pk="x")  # type: ignore[arg-type]
