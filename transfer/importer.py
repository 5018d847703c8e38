"""Bulk import: a dry run that finds every bad row, and an all-or-nothing commit.

The rules are those of the services (domains/services.py, mailboxes/rules.py: scope,
normalisation, limits, password handling), applied row by row so that every bad line is
reported with its number and the service's message (transfer/checking.py,
transfer/checking_addresses.py), and then written with bulk inserts so that 100,000 rows take
seconds, not hours (transfer/writing.py). The database constraints stay the judge: a row that
slips past a check here fails the whole transaction.

Callers import Importer, Report, ImportRejected and analyze_tables from here.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import record
from domains.models import Domain, DomainUsage
from mailboxes.loops import alias_expansion_problems, describe, visible_to
from mailboxes.unknown_destinations import unknown_destination_error, unknown_destinations
from transfer.analyze import analyze_tables
from transfer.checking import DomainState, Progress, Source
from transfer.checking_addresses import AddressChecker
from transfer.report import ImportRejected, Problem, Report
from transfer.writing import Writer

__all__ = [
    "DomainState",
    "ImportRejected",
    "Importer",
    "Problem",
    "Progress",
    "Report",
    "Source",
    "analyze_tables",
]


class Importer(AddressChecker):
    """Validate (`validate`) or validate and write (`commit`) the rows of `source` as `actor`.

    on_existing="error": an object that already exists is a bad row (CSV import).
    on_existing="skip": it is skipped and reported (re-runnable migrations).
    on_error="reject": any bad row stops the whole import (CSV import).
    on_error="skip": a bad row is skipped and reported, with what depends on it (migrations).
    """

    def commit(self) -> Report:
        """Validate and write in one transaction; raise ImportRejected if anything is wrong."""
        try:
            with transaction.atomic():
                report = self.validate()
                if not report.ok:
                    raise ImportRejected(report)
                self._lock_and_recheck()
                writer = Writer(self)
                writer.write()
                self._check_expansions(writer.written_aliases)
                created = {kind: n for kind, n in report.created.items() if n}
                if created:  # a run that adds nothing changes nothing, not even the log
                    record(
                        actor=self.actor,
                        actor_label=self.actor_label,
                        action="import",
                        obj=None,
                        domain=None,
                        changes=created,
                    )
        except IntegrityError as exc:
            report = self.report
            report.error(0, _("the database refused the import: %(reason)s") % {"reason": exc})
            raise ImportRejected(report) from None
        self.report.committed = True
        return self.report

    def _check_expansions(self, written: dict[str, tuple[int, tuple[str, ...]]]) -> None:
        """No alias written makes Postfix defer mail (a loop, or more than its limits) or
        bounce it (a destination of ours that nothing answers for), the services' rules
        (mailboxes/loops.py, mailboxes/unknown_destinations.py) for the whole file at once:
        checked after the writes, inside the transaction, so that the file's own mailboxes
        and alias domains count. A migration (on_error="skip") brings over the loops and the
        dangling destinations PostfixAdmin already had; the address trace shows them."""
        if self.on_error == "skip" or not written:
            return
        changes = {address: destinations for address, (_line, destinations) in written.items()}
        may_see = visible_to(self.actor)
        problems = {
            address: f"destinations: {describe(problem, may_see=may_see)}"
            for address, problem in alias_expansion_problems(changes).items()
        }
        for address, missing in unknown_destinations(changes, may_check=may_see).items():
            problems.setdefault(
                address, "destinations: " + " ".join(unknown_destination_error(missing).messages)
            )
        if not problems:
            return
        for address, problem in problems.items():
            self.report.error(written[address][0], problem)
        raise ImportRejected(self.report)

    def _lock_and_recheck(self) -> None:
        """Lock the existing domains the import adds to, as the services lock a domain before
        they check its limits; their usage counters must not have moved since the check."""
        states: dict[int, DomainState] = {
            s.pk: s for s in self.states.values() if s is not None and s.pk is not None
        }
        if not states:
            return
        list(Domain.objects.select_for_update().filter(pk__in=list(states)).order_by("pk"))
        # A locking read of the counters sees the latest commit on every database (a plain
        # read on MariaDB would see the snapshot the check began with).
        counters = {
            pk: (mailboxes, aliases, quota)
            for pk, mailboxes, aliases, quota in DomainUsage.objects.select_for_update()
            .filter(domain_id__in=list(states))
            .order_by("domain_id")
            .values_list("domain_id", "mailboxes", "aliases", "quota_allocated")
        }
        for pk, state in sorted(states.items()):
            if counters.get(pk) != state.counts():
                self.report.error(
                    0,
                    _("%(domain)s changed while the import was checked; run it again.")
                    % {"domain": state.name},
                )
                raise ImportRejected(self.report)
