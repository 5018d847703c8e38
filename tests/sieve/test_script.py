"""The scripts sieve/script.py renders, judged by the real Pigeonhole.

Every variant compiles with sievec; sieve-test shows what each does to sample messages (its
dry run prints the actions the script decided, before Pigeonhole's own checks at delivery, so
the RFC 3834 tests of the script are judged on their own); dovecot-lda delivers for real for
the null sender, which sieve-test cannot be given, and for the folders on disk. sieve-test
cannot set the current date: the vacation windows are set around today.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest

from mailadmin.contract.views_v1 import DEFAULT_SIEVE_SCRIPT
from sieve.models import Action, Condition, Match
from sieve.script import Reply, Rule, quote, render
from tests.sieve.pigeonhole import Pigeonhole, message

pytestmark = pytest.mark.tools

ALICE = "alice@a.example"
SALES = "sales@a.example"
TODAY = date.today()


def reply(**kwargs: Any) -> Reply:
    values: dict[str, Any] = {
        "from_address": ALICE,
        "subject": "Away until Monday",
        "body": "I am away.\nBack on Monday.",
        "days": 7,
        "addresses": (ALICE, SALES),
    }
    values.update(kwargs)
    return Reply(**values)


def rule(condition: str, match: str, value: str, action: str, **kwargs: Any) -> Rule:
    return Rule(condition=condition, match=match, value=value, action=action, **kwargs)


REPORTS = rule("subject", "contains", "report", "fileinto", folder="Reports")


# --- the default, and what compiles -------------------------------------------------------------


def test_default_settings_render_the_contracts_default_script(pigeonhole: Pigeonhole) -> None:
    assert render() == DEFAULT_SIEVE_SCRIPT
    pigeonhole.compile(render())


def _every_rule() -> list[Rule]:
    made = []
    for condition, match, action in itertools.product(
        Condition.values, Match.values, Action.values
    ):
        made.append(
            Rule(
                condition=condition,
                match=match,
                value="boss@example.net" if match == "is" else 'Big "boss" \\ ${x}',
                action=action,
                header_name="X-Mailer" if condition == "header" else "",
                folder="Work/Boss.2024 ü" if action == "fileinto" else "",
                forward_to="deputy@example.net" if action == "forward" else "",
                keep_copy=action == "forward",
            )
        )
    return made


@pytest.mark.parametrize("spam_to_junk", [True, False])
@pytest.mark.parametrize(
    "vacation",
    [
        None,
        reply(),
        reply(start=TODAY, end=TODAY + timedelta(days=9), addresses=(SALES,), chosen=True),
        reply(end=TODAY, days=1),
        reply(start=TODAY, days=60, addresses=(ALICE,)),
    ],
)
def test_every_variant_compiles(
    pigeonhole: Pigeonhole, spam_to_junk: bool, vacation: Reply | None
) -> None:
    pigeonhole.compile(render(spam_to_junk=spam_to_junk, rules=_every_rule(), vacation=vacation))
    pigeonhole.compile(render(spam_to_junk=spam_to_junk, vacation=vacation))


@pytest.mark.parametrize("spam_to_junk", [True, False])
@pytest.mark.parametrize("each", _every_rule(), ids=lambda r: f"{r.condition}-{r.match}-{r.action}")
def test_each_rule_alone_compiles(pigeonhole: Pigeonhole, spam_to_junk: bool, each: Rule) -> None:
    pigeonhole.compile(render(spam_to_junk=spam_to_junk, rules=[each]))


def test_nothing_to_do_is_still_a_script(pigeonhole: Pigeonhole) -> None:
    text = render(spam_to_junk=False)
    assert "require" not in text
    pigeonhole.compile(text)
    assert pigeonhole.run(text, message(to=ALICE), recipient=ALICE).folders == ["INBOX"]


def test_strings_are_quoted_and_dollar_braces_stay_literal(pigeonhole: Pigeonhole) -> None:
    assert quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    tricky = 'Re: "${subject}" \\o/ ${hex:41}'
    text = render(vacation=reply(subject=tricky, body='"quoted"\n\\ back\\slash ${x}'))
    assert "variables" not in text and "encoded-character" not in text
    outcome = pigeonhole.run(text, message(to=ALICE), recipient=ALICE)
    assert outcome.vacation_sent
    assert outcome.vacation_field("subject") == tricky
    assert '"quoted"\n\\ back\\slash ${x}' in outcome.output


def test_a_string_that_cannot_be_quoted_is_refused() -> None:
    with pytest.raises(ValueError):
        render(rules=[rule("subject", "contains", "a\nb", "discard")])
    with pytest.raises(ValueError):
        render(vacation=reply(body="nul\0"))


# --- the vacation reply -------------------------------------------------------------------------


def test_vacation_replies_to_a_normal_message(pigeonhole: Pigeonhole) -> None:
    outcome = pigeonhole.run(render(vacation=reply()), message(to=ALICE), recipient=ALICE)
    assert outcome.vacation_sent
    assert outcome.vacation_field("from") == ALICE
    assert outcome.vacation_field("subject") == "Away until Monday"
    assert outcome.vacation_field("seconds") == str(7 * 86400)
    # The reply does not take the message: it is kept, and the owner's script runs.
    assert outcome.folders == ["INBOX"]


@pytest.mark.parametrize(
    "headers",
    [
        {"List-Id": "Team list <team.lists.example.net>"},
        {"List-Post": "<mailto:team@lists.example.net>"},
        {"List-Unsubscribe": "<mailto:leave@lists.example.net>"},
        {"Precedence": "bulk"},
        {"Precedence": "list"},
        {"Precedence": "Junk"},
        {"Auto-Submitted": "auto-generated"},
        {"Auto-Submitted": "auto-replied"},
        {"X-Spam-Flag": "YES"},
        {"X-Spam": "Yes"},
    ],
    ids=lambda h: "-".join(f"{k}:{v}" for k, v in h.items()),
)
@pytest.mark.parametrize("spam_to_junk", [True, False])
def test_vacation_never_answers_automatic_list_or_spam_mail(
    pigeonhole: Pigeonhole, headers: dict[str, str], spam_to_junk: bool
) -> None:
    text = render(spam_to_junk=spam_to_junk, vacation=reply())
    outcome = pigeonhole.run(text, message(to=ALICE, headers=headers), recipient=ALICE)
    assert not outcome.vacation_sent, outcome.output


def test_auto_submitted_no_is_answered(pigeonhole: Pigeonhole) -> None:
    mail = message(to=ALICE, headers={"Auto-Submitted": "no"})
    assert pigeonhole.run(render(vacation=reply()), mail, recipient=ALICE).vacation_sent


def test_the_judge_sees_replies_the_scripts_own_tests_prevent(pigeonhole: Pigeonhole) -> None:
    """Control: a bare vacation command answers bulk mail under sieve-test, so the refusals
    above are the panel's script's doing, not Pigeonhole's."""
    bare = 'require "vacation";\nvacation :days 7 :subject "x" "away";\n'
    mail = message(to=ALICE, headers={"Precedence": "bulk", "List-Id": "<x.example.net>"})
    assert pigeonhole.run(bare, mail, recipient=ALICE).vacation_sent


@pytest.mark.parametrize(
    ("start", "end", "answered"),
    [
        (TODAY - timedelta(days=2), TODAY + timedelta(days=2), True),
        (None, TODAY + timedelta(days=2), True),
        (TODAY - timedelta(days=2), None, True),
        (TODAY + timedelta(days=2), None, False),  # not begun
        (TODAY + timedelta(days=2), TODAY + timedelta(days=5), False),
        (None, TODAY - timedelta(days=2), False),  # over
        (TODAY - timedelta(days=5), TODAY - timedelta(days=2), False),
    ],
)
def test_vacation_answers_within_its_days_only(
    pigeonhole: Pigeonhole, start: date | None, end: date | None, answered: bool
) -> None:
    text = render(vacation=reply(start=start, end=end))
    assert pigeonhole.run(text, message(to=ALICE), recipient=ALICE).vacation_sent is answered


@pytest.mark.parametrize(
    ("chosen", "to", "answered"),
    [
        ((ALICE,), ALICE, True),
        ((ALICE,), SALES, False),  # the owner chose not to answer for sales@
        ((SALES,), SALES, True),
        ((SALES,), f"Team <{SALES}>, other@example.net", True),
        ((SALES,), ALICE, False),
    ],
)
def test_chosen_addresses_are_the_only_ones_answered(
    pigeonhole: Pigeonhole, chosen: tuple[str, ...], to: str, answered: bool
) -> None:
    text = render(vacation=reply(addresses=chosen, chosen=True))
    # Dovecot is told the address the message was sent to (original recipient): Pigeonhole
    # would answer it whatever :addresses says; the script's own test decides.
    original = SALES if SALES in to else ALICE
    outcome = pigeonhole.run(text, message(to=to), recipient=ALICE, original=original)
    assert outcome.vacation_sent is answered


def test_all_addresses_answer_mail_to_an_alias(pigeonhole: Pigeonhole) -> None:
    text = render(vacation=reply(addresses=(ALICE, SALES, "alice@alias-a.example")))
    outcome = pigeonhole.run(text, message(to="alice@alias-a.example"), recipient=ALICE)
    assert outcome.vacation_sent


def test_vacation_with_a_null_sender_is_never_sent(pigeonhole: Pigeonhole) -> None:
    """Real delivery: the script's own envelope test stops the vacation command before it
    runs (the trace shows no vacation action); a normal sender gets the reply, sent."""
    text = render(vacation=reply())
    bounced = pigeonhole.deliver(text, message(to=ALICE), sender="", recipient=ALICE)
    assert bounced.returncode == 0, bounced.log
    assert "Started executing script" in bounced.trace
    assert "vacation action" not in bounced.trace
    assert bounced.sent == []
    assert len(bounced.folder_messages("INBOX")) == 1
    normal = pigeonhole.deliver(
        text, message(to=ALICE), sender="sender@example.net", recipient=ALICE
    )
    assert normal.returncode == 0, normal.log
    assert "vacation action" in normal.trace
    [sent] = normal.sent
    assert sent.startswith("ARGS: -i -f <> -- sender@example.net")
    assert f"From: {ALICE}" in sent and "Subject: Away until Monday" in sent
    assert "Auto-Submitted: auto-replied" in sent
    assert sent.rstrip().endswith("I am away.\nBack on Monday.")


# --- spam and filter rules ----------------------------------------------------------------------

SPAM = {"X-Spam-Flag": "YES"}


def test_spam_goes_to_junk_by_default_and_not_when_switched_off(pigeonhole: Pigeonhole) -> None:
    mail = message(to=ALICE, headers=SPAM)
    assert pigeonhole.run(render(), mail, recipient=ALICE).folders == ["Junk"]
    rspamd = message(to=ALICE, headers={"X-Spam": "Yes"})
    assert pigeonhole.run(render(), rspamd, recipient=ALICE).folders == ["Junk"]
    assert pigeonhole.run(render(spam_to_junk=False), mail, recipient=ALICE).folders == ["INBOX"]
    clean = message(to=ALICE, headers={"X-Spam-Flag": "NO"})
    assert pigeonhole.run(render(), clean, recipient=ALICE).folders == ["INBOX"]


def test_spam_is_filed_to_junk_on_disk(pigeonhole: Pigeonhole) -> None:
    text = render(rules=[REPORTS])
    spam = pigeonhole.deliver(
        text, message(to=ALICE, headers=SPAM), sender="x@example.net", recipient=ALICE
    )
    assert spam.returncode == 0, spam.log
    assert len(spam.folder_messages("Junk")) == 1 and spam.folder_messages("INBOX") == []
    filed = pigeonhole.deliver(
        text, message(to=ALICE, subject="Weekly report"), sender="x@example.net", recipient=ALICE
    )
    assert len(filed.folder_messages("Reports")) == 1 and filed.folder_messages("INBOX") == []


def test_spam_is_not_filtered_further(pigeonhole: Pigeonhole) -> None:
    forward = rule("subject", "contains", "report", "forward", forward_to="boss@example.net")
    mail = message(to=ALICE, subject="report", headers=SPAM)
    outcome = pigeonhole.run(render(rules=[forward]), mail, recipient=ALICE)
    assert (outcome.folders, outcome.redirects) == (["Junk"], [])
    # Switched off, spam is mail like any other.
    outcome = pigeonhole.run(render(spam_to_junk=False, rules=[forward]), mail, recipient=ALICE)
    assert outcome.redirects == ["boss@example.net"]


@pytest.mark.parametrize(
    ("each", "mail", "matches"),
    [
        (
            rule("sender", "contains", "Big Boss", "fileinto", folder="Boss"),
            message(sender="Big Boss <b@corp.example>", to=ALICE),
            True,
        ),
        (
            rule("sender", "is", "B@Corp.Example", "fileinto", folder="Boss"),
            message(sender="Big Boss <b@corp.example>", to=ALICE),
            True,
        ),
        (
            rule("sender", "is", "b@corp.example", "fileinto", folder="Boss"),
            message(sender="Big Boss <bb@corp.example>", to=ALICE),
            False,
        ),
        (
            rule("recipient", "is", SALES, "fileinto", folder="Sales"),
            message(to=ALICE, headers={"Cc": f"Sales <{SALES}>"}),
            True,
        ),
        (
            rule("recipient", "contains", "sales@", "fileinto", folder="Sales"),
            message(to=f"{SALES}"),
            True,
        ),
        (
            rule("subject", "is", "weekly report", "fileinto", folder="Reports"),
            message(to=ALICE, subject="Weekly Report"),
            True,
        ),
        (
            rule("subject", "is", "report", "fileinto", folder="Reports"),
            message(to=ALICE, subject="Weekly Report"),
            False,
        ),
        (
            rule("header", "contains", "jenkins", "fileinto", folder="CI", header_name="X-Mailer"),
            message(to=ALICE, headers={"X-Mailer": "Jenkins 2.4"}),
            True,
        ),
        (REPORTS, message(to=ALICE, subject="Hello"), False),
    ],
)
def test_a_filter_files_a_matching_message_into_its_folder(
    pigeonhole: Pigeonhole, each: Rule, mail: str, matches: bool
) -> None:
    outcome = pigeonhole.run(render(rules=[each]), mail, recipient=ALICE)
    assert outcome.folders == ([each.folder] if matches else ["INBOX"])


def test_the_first_rule_that_matches_wins(pigeonhole: Pigeonhole) -> None:
    rules = [
        rule("sender", "contains", "boss", "fileinto", folder="Boss"),
        REPORTS,
        rule("subject", "contains", "report", "discard"),
    ]
    mail = message(sender="boss@corp.example", to=ALICE, subject="report")
    assert pigeonhole.run(render(rules=rules), mail, recipient=ALICE).folders == ["Boss"]
    other = message(to=ALICE, subject="report")
    outcome = pigeonhole.run(render(rules=rules), other, recipient=ALICE)
    assert (outcome.folders, outcome.discarded) == (["Reports"], False)


OWNER_SCRIPT = 'require "fileinto";\nfileinto "FromOwnerScript";\n'


def test_forwarding_with_and_without_a_copy(pigeonhole: Pigeonhole) -> None:
    mail = message(to=ALICE, subject="report")
    without = rule("subject", "contains", "report", "forward", forward_to="boss@example.net")
    outcome = pigeonhole.run(
        render(rules=[without]), mail, recipient=ALICE, owner_script=OWNER_SCRIPT
    )
    assert (outcome.redirects, outcome.folders) == (["boss@example.net"], [])
    # The message went away: the owner's script is not run.
    assert outcome.scripts == ["panel.sieve"]
    with_copy = rule(
        "subject", "contains", "report", "forward", forward_to="boss@example.net", keep_copy=True
    )
    outcome = pigeonhole.run(
        render(rules=[with_copy]), mail, recipient=ALICE, owner_script=OWNER_SCRIPT
    )
    assert outcome.redirects == ["boss@example.net"]
    # The copy stays, so the owner's script still runs (no `stop` in the panel's script).
    assert outcome.scripts == ["panel.sieve", "owner.sieve"]
    assert outcome.folders == ["FromOwnerScript"]


def test_discard(pigeonhole: Pigeonhole) -> None:
    outcome = pigeonhole.run(
        render(rules=[rule("sender", "contains", "spammer", "discard")]),
        message(sender="spammer@example.net", to=ALICE),
        recipient=ALICE,
    )
    assert outcome.discarded and outcome.folders == []


def test_mark_as_read_keeps_the_message_with_seen(pigeonhole: Pigeonhole) -> None:
    text = render(rules=[rule("subject", "contains", "newsletter", "mark_read")])
    mail = message(to=ALICE, subject="Our newsletter")
    outcome = pigeonhole.run(text, mail, recipient=ALICE)
    assert outcome.implicit_keep == ["store message in folder: INBOX [\\seen]"]
    assert outcome.performed == []
    # The owner's script runs after it and files the message, still marked read.
    outcome = pigeonhole.run(text, mail, recipient=ALICE, owner_script=OWNER_SCRIPT)
    assert outcome.scripts == ["panel.sieve", "owner.sieve"]
    assert outcome.performed == ["store message in folder: FromOwnerScript [\\seen]"]
    delivered = pigeonhole.deliver(text, mail, sender="x@example.net", recipient=ALICE)
    assert delivered.folder_messages("INBOX") and not list((delivered.maildir / "new").glob("*"))
    assert all(p.name.endswith(":2,S") for p in (delivered.maildir / "cur").glob("*"))


def test_default_filing_leaves_the_owners_script_out_but_not_plain_mail(
    pigeonhole: Pigeonhole,
) -> None:
    plain = pigeonhole.run(render(), message(to=ALICE), recipient=ALICE, owner_script=OWNER_SCRIPT)
    assert plain.scripts == ["panel.sieve", "owner.sieve"]
    assert plain.folders == ["FromOwnerScript"]
    spam = pigeonhole.run(
        render(), message(to=ALICE, headers=SPAM), recipient=ALICE, owner_script=OWNER_SCRIPT
    )
    assert (spam.scripts, spam.folders) == (["panel.sieve"], ["Junk"])
