"""PostfixAdmin's vacation table carried over by the migration: read from a real PostfixAdmin
database of each dialect (tests/transfer/postfixadmin_db.py), written through the sieve
services (checked, audited, published as the mailbox's script), reported row by row. The
end-to-end migration is tests/transfer/test_postfixadmin.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from audit.models import AuditEntry
from mailboxes.models import Mailbox
from sieve.models import SieveScript, Vacation
from tests.sieve.pigeonhole import Pigeonhole, message
from tests.transfer.postfixadmin_db import NOTES, SKIPPED, create_pfa_database, drop_pfa_database
from transfer.postfixadmin import PfaData, migrate, read_source
from transfer.postfixadmin.admins import AUDIT_LABEL
from transfer.postfixadmin.vacations import as_date, days_of

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", params=["pgsql", "mysql"])
def source(request: pytest.FixtureRequest) -> Iterator[PfaData]:
    pfa = create_pfa_database(request.param)
    try:
        yield read_source(pfa.url)
    finally:
        drop_pfa_database(pfa)


@pytest.fixture(scope="module")
def pigeonhole() -> Iterator[Pigeonhole]:
    judge = Pigeonhole()
    try:
        yield judge
    finally:
        judge.close()


def vacation(address: str) -> Vacation:
    local_part, domain = address.split("@")
    return Vacation.objects.get(mailbox__local_part=local_part, mailbox__domain__name=domain)


def test_vacations_are_carried_over(source: PfaData, pigeonhole: Pigeonhole) -> None:
    report = migrate(source)
    lines = "\n".join(report.lines())
    assert report.imported["vacation"] == 4, lines
    john = vacation("john@example.com")
    assert (john.enabled, john.subject, john.start, john.end, john.days) == (
        True,
        "Out of office",
        None,
        None,
        60,
    )
    assert john.body == 'Away until "Monday".\nUrgent: call \\ 555.'
    assert john.addresses == []
    jane = vacation("jane@example.com")
    assert (jane.enabled, jane.subject, jane.body, jane.start, jane.end, jane.days) == (
        False,
        "Відпустка",
        "Повернуся в серпні.",
        date(2030, 7, 1),
        date(2030, 7, 31),
        7,
    )
    bob = vacation("bob@example.com")
    assert (bob.enabled, bob.end, bob.days) == (False, date(2021, 1, 1), 1)
    assert vacation("dan@example.com").days == 60
    for what, reason in SKIPPED.items():
        if what.startswith("vacation "):
            assert any(w == what and reason in why for w, why in report.skipped), lines
    for note in NOTES:
        if note.startswith("vacation "):
            assert note in report.notes, lines
    # Only the replies that are on have a script; Dovecot answers from it.
    scripted = SieveScript.objects.values_list("mailbox__local_part", flat=True)
    assert sorted(scripted) == ["dan", "john"]
    text = SieveScript.objects.get(mailbox__local_part="john").script
    pigeonhole.compile(text)
    outcome = pigeonhole.run(text, message(to="john@example.com"), recipient="john@example.com")
    assert outcome.vacation_sent and outcome.vacation_field("subject") == "Out of office"
    entries = AuditEntry.objects.filter(object_type="vacation")
    assert entries.count() == 4
    assert set(entries.values_list("actor_id", "actor_label", "action")) == {
        (None, AUDIT_LABEL, "create")
    }


def test_a_second_run_keeps_the_replies_here(source: PfaData) -> None:
    migrate(source)
    changed = Mailbox.objects.get(local_part="john", domain__name="example.com")
    Vacation.objects.filter(mailbox=changed).update(subject="Changed here")
    again = migrate(source)
    assert again.imported["vacation"] == 0
    assert (
        "vacation john@example.com",
        "the mailbox has a vacation reply here; left as it is",
    ) in again.skipped
    assert vacation("john@example.com").subject == "Changed here"
    assert "imported: nothing new" in "\n".join(again.lines())


def test_a_dry_run_writes_no_reply(source: PfaData) -> None:
    report = migrate(source, dry_run=True)
    assert report.imported["vacation"] == 4
    assert not Vacation.objects.exists() and not SieveScript.objects.exists()


@pytest.mark.parametrize(
    ("seconds", "days", "noted"),
    [(0, 60, True), (1, 1, True), (86400, 1, False), (7 * 86400, 7, False), (90 * 86400, 60, True)],
)
def test_interval_in_days(seconds: int, days: int, noted: bool) -> None:
    assert days_of(seconds)[0] == days
    assert bool(days_of(seconds)[1]) is noted


def test_dates_as_each_driver_returns_them() -> None:
    assert as_date("2030-07-01 00:00:00") == date(2030, 7, 1)
    assert as_date(b"2030-07-01") == date(2030, 7, 1)
    assert as_date("0000-00-00 00:00:00") is None
    assert as_date(None) is None
