"""Bulk import: a dry run that finds every bad row, and an all-or-nothing commit.

The rules are those of domains/services.py and mailboxes/services.py (scope, normalisation,
limits, password handling), applied row by row so that every bad line is reported with its
number, and then written with bulk inserts so that 100,000 rows take seconds, not hours. The
database constraints stay the judge: a row that slips past a check here fails the whole
transaction.

The source is read in passes and never held in memory: domains and alias domains first (the
other rows depend on them), then mailboxes and aliases. What does grow with the file is the
compact index of addresses seen (mailadmin/digestindex.py, about 24 bytes a row, for duplicates
within the file) and the list of errors (capped).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from audit.services import new_entry, record, record_many
from domains.models import AliasDomain, Domain, RelayRecipient
from domains.relay import check_relay_delivery
from domains.selectors import domains_visible_to
from domains.services import check_alias_domain_allowed
from mailadmin import passwords
from mailadmin.access import Actor, is_superadmin
from mailadmin.digestindex import DigestIndex
from mailadmin.sizes import format_size
from mailadmin.writes import not_yours
from mailboxes.loops import alias_expansion_problems, describe, visible_to
from mailboxes.maildirs import awaiting_archive_error, homes_awaiting_archive
from mailboxes.models import Alias, AliasDestination, Mailbox
from mailboxes.storage import PathIndex, check_owner_ids, path_conflict
from transfer.csvformat import KINDS, BadLine, Record
from transfer.rows import (
    AliasDomainRow,
    AliasRow,
    DomainRow,
    MailboxRow,
    RelayRecipientRow,
    parse_alias,
    parse_alias_domain,
    parse_domain,
    parse_mailbox,
    parse_relay_recipient,
)

AddressRow = MailboxRow | AliasRow | RelayRecipientRow
_PARSERS: dict[str, Callable[[int, dict[str, str]], AddressRow]] = {
    "mailbox": parse_mailbox,
    "alias": parse_alias,
    "relayrecipient": parse_relay_recipient,
}

log = logging.getLogger(__name__)

Source = Iterable[Record | BadLine]
Progress = Callable[[str, int, int], None]

MAX_LISTED = 1000  # errors and skips kept for the report; the counts are always complete
BATCH = 1000


@dataclass
class Problem:
    line: int
    reason: str


@dataclass
class Report:
    rows: int = 0
    created: Counter[str] = field(default_factory=Counter)
    skipped: list[Problem] = field(default_factory=list)
    skipped_count: int = 0
    errors: list[Problem] = field(default_factory=list)
    error_count: int = 0
    committed: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(Problem(line, reason))

    def skip(self, line: int, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_LISTED:
            self.skipped.append(Problem(line, reason))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": {kind: self.created.get(kind, 0) for kind in KINDS},
            "skipped": [[p.line, p.reason] for p in self.skipped],
            "skipped_count": self.skipped_count,
            "errors": [[p.line, p.reason] for p in sorted(self.errors, key=lambda p: p.line)],
            "error_count": self.error_count,
            "committed": self.committed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            rows=data.get("rows", 0),
            created=Counter(data.get("created", {})),
            skipped=[Problem(line, reason) for line, reason in data.get("skipped", [])],
            skipped_count=data.get("skipped_count", 0),
            errors=[Problem(line, reason) for line, reason in data.get("errors", [])],
            error_count=data.get("error_count", 0),
            committed=data.get("committed", False),
        )


class ImportRejected(Exception):
    """The commit found errors (or the data changed meanwhile); nothing was written."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"{report.error_count} error(s); nothing was imported")
        self.report = report


@dataclass
class DomainState:
    """What the import needs to know of a domain: limits, and its counts as rows are added."""

    name: str
    pk: int | None  # None: created by this import
    hosted: bool
    max_mailboxes: int
    max_aliases: int
    max_mailbox_quota: int
    total_quota: int
    existing_mailboxes: int = 0
    existing_aliases: int = 0
    existing_quota: int = 0
    new_mailboxes: int = 0
    new_aliases: int = 0
    new_quota: int = 0


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
            for name, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)


class Importer:
    """Validate (`validate`) or validate and write (`commit`) the rows of `source` as `actor`.

    on_existing="error": an object that already exists is a bad row (CSV import).
    on_existing="skip": it is skipped and reported (re-runnable migrations).
    on_error="reject": any bad row stops the whole import (CSV import).
    on_error="skip": a bad row is skipped and reported, with what depends on it (migrations).
    """

    def __init__(
        self,
        source: Source,
        *,
        actor: Actor,
        on_existing: str = "error",
        on_error: str = "reject",
        progress: Progress | None = None,
        total: int | None = None,
    ) -> None:
        if on_existing not in ("error", "skip") or on_error not in ("reject", "skip"):
            raise ValueError(f"{on_existing}/{on_error}")
        self.on_error = on_error
        self.source = source
        self.actor = actor
        self.on_existing = on_existing
        self.progress = progress
        self.total = total

    # --- validation ----------------------------------------------------------------------

    def validate(self) -> Report:
        self._reset()
        self._pass_domains()
        self._pass_addresses()
        self._check_self_aliases()
        return self.report

    def _reset(self) -> None:
        self.report = Report()
        self.visible = domains_visible_to(self.actor)
        self.is_superuser = is_superadmin(self.actor)
        # The homes and paths of every mailbox of the domains this import touches.
        self.paths = PathIndex()
        # address -> (line, destinations) of every alias written, for the loop check.
        self.written_aliases: dict[str, tuple[int, tuple[str, ...]]] = {}
        self.new_domains: dict[str, DomainRow] = {}
        self.new_alias_domains: dict[str, AliasDomainRow] = {}
        self.states: dict[str, DomainState | None] = {}
        self.names_by_pk: dict[int, str] = {}
        self.seen = DigestIndex()  # "mailbox:addr" / "alias:addr" -> line
        self.skipped_lines: set[int] = set()
        self.self_aliases: list[AliasRow] = []
        # domain -> local parts whose deleted mailbox's directory awaits the archive run.
        self.awaiting_archive: dict[str, set[str]] = {}

    def _tick(self, phase: str, done: int) -> None:
        if self.progress is not None and done % BATCH == 0:
            self.progress(phase, done, self.total or self.report.rows)

    def _bad(self, line: int, reason: str) -> None:
        if self.on_error == "skip":
            self.report.skip(line, reason)
            self.skipped_lines.add(line)
        else:
            self.report.error(line, reason)

    def _existing(self, line: int, what: str) -> None:
        if self.on_existing == "skip":
            self.report.skip(line, _("%(what)s already exists") % {"what": what})
            self.skipped_lines.add(line)
        else:
            self._bad(line, _("%(what)s already exists") % {"what": what})

    def _pass_domains(self) -> None:
        alias_domain_rows: list[AliasDomainRow] = []
        for index, item in enumerate(self.source, 1):
            self.report.rows = index
            self._tick("read", index)
            if isinstance(item, BadLine):
                self._bad(item.line, item.reason)
                continue
            kind = item.cells.get("type", "").strip().lower()
            if kind not in KINDS:
                self._bad(
                    item.line,
                    _("type: “%(value)s” is not one of %(kinds)s")
                    % {"value": kind, "kinds": ", ".join(KINDS)},
                )
                continue
            try:
                if kind == "domain":
                    self._check_domain(parse_domain(item.line, item.cells))
                elif kind == "aliasdomain":
                    alias_domain_rows.append(parse_alias_domain(item.line, item.cells))
            except ValidationError as exc:
                self._bad(item.line, _message(exc))
        if self.progress is not None:
            self.progress("read", self.report.rows, self.total or self.report.rows)
        # Alias domains after every domain row: their target may come later in the file.
        for row in alias_domain_rows:
            try:
                self._check_alias_domain(row)
            except ValidationError as exc:
                self._bad(row.line, _message(exc))

    def _check_domain(self, row: DomainRow) -> None:
        if not self.is_superuser:
            raise ValidationError(_("Only a superadmin can create domains."))
        if row.name in self.new_domains:
            raise ValidationError(
                _("%(name)s is already on line %(line)d")
                % {"name": row.name, "line": self.new_domains[row.name].line}
            )
        if Domain.objects.filter(name=row.name).exists():
            self._existing(row.line, _("the domain %(name)s") % {"name": row.name})
            return
        if AliasDomain.objects.filter(name=row.name).exists():
            raise ValidationError(_("%(name)s is already an alias domain.") % {"name": row.name})
        self.new_domains[row.name] = row
        self.report.created["domain"] += 1

    def _check_alias_domain(self, row: AliasDomainRow) -> None:
        if row.name in self.new_alias_domains:
            raise ValidationError(
                _("%(name)s is already on line %(line)d")
                % {"name": row.name, "line": self.new_alias_domains[row.name].line}
            )
        if row.name in self.new_domains:
            raise ValidationError(
                _("%(name)s is a domain on line %(line)d")
                % {"name": row.name, "line": self.new_domains[row.name].line}
            )
        if not self.is_superuser:
            # Before anything that tells whether the name exists: the same answer either way.
            target = self._state(row.target)
            if target is None:
                raise ValidationError(f"target: {not_yours(self.actor, row.target)}")
            check_alias_domain_allowed(actor=self.actor, name=row.name, target_pk=target.pk)
        existing = AliasDomain.objects.filter(name=row.name).select_related("target").first()
        if existing is not None:
            if existing.target.name == row.target or self.on_existing == "error":
                self._existing(row.line, _("the alias domain %(name)s") % {"name": row.name})
                return
            raise ValidationError(
                _("%(name)s is already an alias domain of %(target)s")
                % {"name": row.name, "target": existing.target.name}
            )
        if Domain.objects.filter(name=row.name).exists():
            raise ValidationError(_("%(name)s is already a domain.") % {"name": row.name})
        state = self._state(row.target)
        if state is None:
            raise ValidationError(f"target: {not_yours(self.actor, row.target)}")
        if not state.hosted:
            raise ValidationError(
                _("target: only a hosted domain can be the target of an alias domain.")
            )
        self.new_alias_domains[row.name] = row
        self.report.created["aliasdomain"] += 1

    def _state(self, name: str) -> DomainState | None:
        """The domain `name` as this import sees it; None when the actor may not use it."""
        if name in self.states:
            return self.states[name]
        state: DomainState | None = None
        if name in self.new_domains:
            row = self.new_domains[name]
            state = DomainState(
                name,
                None,
                row.is_hosted,
                row.max_mailboxes,
                row.max_aliases,
                row.max_mailbox_quota,
                row.total_quota,
            )
        else:
            domain = self.visible.filter(name=name).first()
            if domain is not None:
                state = DomainState(
                    name,
                    domain.pk,
                    domain.is_hosted,
                    domain.max_mailboxes,
                    domain.max_aliases,
                    domain.max_mailbox_quota,
                    domain.total_quota,
                )
                self._load_counts(state)
                self.names_by_pk[domain.pk] = name
                if state.hosted:
                    self.paths.load_domain(domain.pk, name)
        self.states[name] = state
        return state

    @staticmethod
    def _load_counts(state: DomainState) -> None:
        assert state.pk is not None
        mailboxes = Mailbox.objects.filter(domain_id=state.pk).aggregate(
            n=Count("id"), quota=Sum("quota")
        )
        state.existing_mailboxes = mailboxes["n"]
        state.existing_quota = mailboxes["quota"] or 0
        state.existing_aliases = Alias.objects.filter(domain_id=state.pk).count()

    def _pass_addresses(self) -> None:
        pending: list[AddressRow] = []
        for index, item in enumerate(self.source, 1):
            self._tick("check", index)
            if isinstance(item, BadLine):
                continue
            kind = item.cells.get("type", "").strip().lower()
            if kind not in _PARSERS:
                continue
            try:
                row: AddressRow = _PARSERS[kind](item.line, item.cells)
            except ValidationError as exc:
                self._bad(item.line, _message(exc))
                continue
            pending.append(row)
            if len(pending) >= BATCH:
                self._check_batch(pending)
                pending = []
        self._check_batch(pending)
        if self.progress is not None:
            self.progress("check", self.report.rows, self.total or self.report.rows)

    def _check_batch(self, rows: Sequence[AddressRow]) -> None:
        """Check a batch: the database is asked once per domain for existing addresses."""
        taken = self._taken_in_database(rows)
        for row in rows:
            try:
                if isinstance(row, MailboxRow):
                    self._check_mailbox(row, taken)
                elif isinstance(row, RelayRecipientRow):
                    self._check_relay_recipient(row, taken)
                else:
                    self._check_alias(row, taken)
            except ValidationError as exc:
                self._bad(row.line, _message(exc))

    def _taken_in_database(self, rows: Sequence[AddressRow]) -> set[str]:
        wanted: dict[tuple[str, int], set[str]] = {}
        for row in rows:
            state = self._state(row.domain)
            if state is not None and state.pk is not None:
                wanted.setdefault((_kind(row), state.pk), set()).add(row.local_part)
        taken: set[str] = set()
        for (kind, pk), local_parts in wanted.items():
            model = _MODELS[kind]
            found = model.objects.filter(domain_id=pk, local_part__in=local_parts)
            domain_name = self.names_by_pk[pk]
            taken.update(
                f"{kind}:{lp}@{domain_name}" for lp in found.values_list("local_part", flat=True)
            )
        return taken

    def _usable_state(self, domain: str) -> DomainState:
        state = self._state(domain)
        if state is None:
            raise ValidationError(f"name: {not_yours(self.actor, domain)}")
        if not state.hosted:
            raise ValidationError(
                _("name: %(name)s is not hosted here (it is relayed or backed up).")
                % {"name": domain}
            )
        return state

    def _check_duplicate(self, key: str, line: int, what: str) -> None:
        first = self.seen.get(key)
        if first is not None:
            raise ValidationError(
                _("%(what)s is already on line %(line)d") % {"what": what, "line": first}
            )

    def _check_mailbox(self, row: MailboxRow, taken: set[str]) -> None:
        state = self._usable_state(row.domain)
        key = f"mailbox:{row.address}"
        if key in self.seen or key in taken:
            what = _("the mailbox %(address)s") % {"address": row.address}
            self._check_duplicate(key, row.line, what)
            self.seen.add(key, row.line)
            self._existing(row.line, what)
            return
        if state.max_mailboxes and (
            state.existing_mailboxes + state.new_mailboxes >= state.max_mailboxes
        ):
            raise ValidationError(
                _("%(domain)s already has its maximum of %(n)d mailboxes.")
                % {"domain": state.name, "n": state.max_mailboxes}
            )
        if row.domain not in self.awaiting_archive:
            self.awaiting_archive[row.domain] = homes_awaiting_archive(row.domain)
        pending = self.awaiting_archive[row.domain]
        if row.local_part in pending or "*" in pending:
            raise ValidationError(f"name: {' '.join(awaiting_archive_error(row.address).messages)}")
        quota = state.max_mailbox_quota if row.quota is None else row.quota
        self._check_quota(state, quota)
        self._check_owner_ids(row)
        self._claim_path(row)
        self.seen.add(key, row.line)
        state.new_mailboxes += 1
        state.new_quota += quota
        self.report.created["mailbox"] += 1

    def _check_owner_ids(self, row: MailboxRow) -> None:
        try:
            check_owner_ids(self.actor, row.uid, row.gid)
        except PermissionDenied as exc:
            raise ValidationError(str(exc)) from None

    def _claim_path(self, row: MailboxRow) -> None:
        """The row's home and path share no directory with any other mailbox, stored or on an
        earlier line (mailboxes/storage.py); its shape was checked when the row was read."""
        clash = self.paths.claim(row.domain, row.local_part, row.path, row.line)
        if clash is None:
            return
        if clash:
            raise ValidationError(
                _("maildir: %(path)s shares a directory with the mailbox of line %(line)d.")
                % {"path": row.path, "line": clash}
            )
        holder = path_conflict(domain=row.domain, local_part=row.local_part, path=row.path)
        raise ValidationError(
            _("maildir: %(path)s shares a directory with the mailbox %(other)s.")
            % {"path": row.path, "other": holder.address if holder else "?"}
        )

    @staticmethod
    def _check_quota(state: DomainState, quota: int) -> None:
        if state.max_mailbox_quota and (quota == 0 or quota > state.max_mailbox_quota):
            raise ValidationError(
                _("quota: %(domain)s allows at most %(max)s per mailbox.")
                % {"domain": state.name, "max": format_size(state.max_mailbox_quota)}
            )
        if state.total_quota:
            if quota == 0:
                raise ValidationError(
                    _("quota: %(domain)s has a total quota: each mailbox needs a quota.")
                    % {"domain": state.name}
                )
            used = state.existing_quota + state.new_quota
            if used + quota > state.total_quota:
                raise ValidationError(
                    _("quota: %(domain)s has %(free)s of its total quota left.")
                    % {
                        "domain": state.name,
                        "free": format_size(max(state.total_quota - used, 0)),
                    }
                )

    def _check_alias(self, row: AliasRow, taken: set[str]) -> None:
        state = self._usable_state(row.domain)
        key = f"alias:{row.address}"
        if key in self.seen or key in taken:
            what = _("the alias %(address)s") % {"address": row.address}
            self._check_duplicate(key, row.line, what)
            self.seen.add(key, row.line)
            self._existing(row.line, what)
            return
        if state.max_aliases and (state.existing_aliases + state.new_aliases >= state.max_aliases):
            raise ValidationError(
                _("%(domain)s already has its maximum of %(n)d aliases.")
                % {"domain": state.name, "n": state.max_aliases}
            )
        if row.address in row.destinations:
            # Pointing to itself means "keep a copy" only for a mailbox: checked once every
            # mailbox of the file is known.
            self.self_aliases.append(row)
        self.seen.add(key, row.line)
        state.new_aliases += 1
        self.report.created["alias"] += 1

    def _check_relay_recipient(self, row: RelayRecipientRow, taken: set[str]) -> None:
        """domains.relay's rule: a relay or backup domain the actor may see, once each."""
        state = self._state(row.domain)
        if state is None:
            raise ValidationError(f"name: {not_yours(self.actor, row.domain)}")
        check_relay_delivery(name=row.domain, hosted=state.hosted)
        key = f"relayrecipient:{row.address}"
        if key in self.seen or key in taken:
            what = _("the relay recipient %(address)s") % {"address": row.address}
            self._check_duplicate(key, row.line, what)
            self.seen.add(key, row.line)
            self._existing(row.line, what)
            return
        self.seen.add(key, row.line)
        self.report.created["relayrecipient"] += 1

    def _check_self_aliases(self) -> None:
        for row in self.self_aliases:
            if f"mailbox:{row.address}" in self.seen:
                continue
            if (
                not row.local_part
                or not Mailbox.objects.filter(
                    domain__name=row.domain, local_part=row.local_part
                ).exists()
            ):
                self._bad(
                    row.line,
                    _("destinations: %(address)s cannot point to itself unless it is a mailbox.")
                    % {"address": row.address},
                )
                self.report.created["alias"] -= 1
                state = self.states.get(row.domain)
                if state is not None:
                    state.new_aliases -= 1

    # --- commit --------------------------------------------------------------------------

    def commit(self) -> Report:
        """Validate and write in one transaction; raise ImportRejected if anything is wrong."""
        try:
            with transaction.atomic():
                report = self.validate()
                if not report.ok:
                    raise ImportRejected(report)
                self._lock_and_recheck()
                self._write()
                self._check_expansions()
                created = {kind: n for kind, n in report.created.items() if n}
                if created:  # a run that adds nothing changes nothing, not even the log
                    record(
                        actor=self.actor, action="import", obj=None, domain=None, changes=created
                    )
        except IntegrityError as exc:
            report = self.report
            report.error(0, _("the database refused the import: %(reason)s") % {"reason": exc})
            raise ImportRejected(report) from None
        self.report.committed = True
        return self.report

    def _check_expansions(self) -> None:
        """No alias written makes Postfix defer mail (a loop, or more than its limits), the
        services' rule (mailboxes/loops.py) for the whole file at once: checked after the
        writes, inside the transaction, so that the file's own mailboxes and alias domains
        count. A migration (on_error="skip") brings over loops PostfixAdmin already had; the
        address trace shows them."""
        if self.on_error == "skip" or not self.written_aliases:
            return
        problems = alias_expansion_problems(
            {
                address: destinations
                for address, (_line, destinations) in self.written_aliases.items()
            }
        )
        if not problems:
            return
        may_see = visible_to(self.actor)
        for address, problem in problems.items():
            line = self.written_aliases[address][0]
            self.report.error(line, f"destinations: {describe(problem, may_see=may_see)}")
        raise ImportRejected(self.report)

    def _lock_and_recheck(self) -> None:
        """Lock the existing domains the import adds to; their counts must not have moved."""
        states = sorted(
            (s for s in self.states.values() if s is not None and s.pk is not None),
            key=lambda s: s.pk or 0,
        )
        if not states:
            return
        list(
            Domain.objects.select_for_update().filter(pk__in=[s.pk for s in states]).order_by("pk")
        )
        for state in states:
            before = (state.existing_mailboxes, state.existing_aliases, state.existing_quota)
            self._load_counts(state)
            if before != (state.existing_mailboxes, state.existing_aliases, state.existing_quota):
                self.report.error(
                    0,
                    _("%(domain)s changed while the import was checked; run it again.")
                    % {"domain": state.name},
                )
                raise ImportRejected(self.report)

    def _write(self) -> None:
        """Bulk inserts, and an audit entry for every object naming what was set."""
        new_domains = [self._domain(row) for row in self.new_domains.values()]
        Domain.objects.bulk_create(new_domains, batch_size=BATCH)
        domains = self._domains(
            set(self.new_domains) | {r.target for r in self.new_alias_domains.values()}
        )
        for domain in new_domains:
            domain.pk = domains[domain.name].pk
        self._audit((d, d.name, _fields(d, _DOMAIN_FIELDS)) for d in new_domains)
        alias_domains = [
            AliasDomain(name=row.name, target=domains[row.target], active=row.active)
            for row in self.new_alias_domains.values()
        ]
        AliasDomain.objects.bulk_create(alias_domains, batch_size=BATCH)
        _fill_ids(AliasDomain, alias_domains)
        self._audit(
            (ad, ad.target.name, {"target": ad.target.name, "active": ad.active})
            for ad in alias_domains
        )
        mailboxes: list[Mailbox] = []
        aliases: list[AliasRow] = []
        recipients: list[RelayRecipient] = []
        done = 0
        for item in self.source:
            if isinstance(item, BadLine) or item.line in self.skipped_lines:
                continue
            kind = item.cells.get("type", "").strip().lower()
            if kind == "mailbox":
                mailboxes.append(self._mailbox(parse_mailbox(item.line, item.cells), domains))
            elif kind == "alias":
                aliases.append(parse_alias(item.line, item.cells))
            elif kind == "relayrecipient":
                row = parse_relay_recipient(item.line, item.cells)
                recipients.append(
                    RelayRecipient(domain=domains[row.domain], local_part=row.local_part)
                )
            else:
                continue
            if len(recipients) >= BATCH:
                self._write_relay_recipients(recipients)
                recipients = []
            if len(mailboxes) >= BATCH:
                self._write_mailboxes(mailboxes)
                done += len(mailboxes)
                mailboxes = []
                self._report_write(done)
            if len(aliases) >= BATCH:
                self._write_aliases(aliases, domains)
                done += len(aliases)
                aliases = []
                self._report_write(done)
        self._write_mailboxes(mailboxes)
        self._write_aliases(aliases, domains)
        self._write_relay_recipients(recipients)
        self._report_write(done + len(mailboxes) + len(aliases))

    def _write_relay_recipients(self, recipients: list[RelayRecipient]) -> None:
        if not recipients:
            return
        RelayRecipient.objects.bulk_create(recipients)
        _fill_ids(RelayRecipient, recipients)
        self._audit((r, r.domain.name, {"local_part": r.local_part}) for r in recipients)

    def _audit(self, created: Iterable[tuple[Any, str, dict[str, Any]]]) -> None:
        """One "create" entry per (object, its domain, what was set)."""
        record_many(
            [
                new_entry(actor=self.actor, action="create", obj=obj, domain=domain, changes=set_)
                for obj, domain, set_ in created
            ]
        )

    def _write_mailboxes(self, mailboxes: list[Mailbox]) -> None:
        if not mailboxes:
            return
        Mailbox.objects.bulk_create(mailboxes)
        _fill_ids(Mailbox, mailboxes)
        self._audit((m, m.domain.name, _fields(m, _MAILBOX_FIELDS)) for m in mailboxes)

    def _report_write(self, done: int) -> None:
        if self.progress is not None:
            total = self.report.created["mailbox"] + self.report.created["alias"]
            self.progress("write", done, total)

    def _domains(self, names: set[str]) -> dict[str, Domain]:
        """`names` plus every domain already in a state (loaded or new), with their keys."""
        names |= set(self.states)
        domains: dict[str, Domain] = {}
        items = sorted(names)
        for start in range(0, len(items), BATCH):
            chunk = items[start : start + BATCH]
            for name, pk in Domain.objects.filter(name__in=chunk).values_list("name", "pk"):
                domains[name] = Domain(pk=pk, name=name)
        return domains

    @staticmethod
    def _domain(row: DomainRow) -> Domain:
        return Domain(
            name=row.name,
            description=row.description,
            delivery=row.delivery,
            transport=row.transport,
            max_mailboxes=row.max_mailboxes,
            max_aliases=row.max_aliases,
            max_mailbox_quota=row.max_mailbox_quota,
            total_quota=row.total_quota,
            uid=row.uid,
            gid=row.gid,
            active=row.active,
            relay_accept_any=row.relay_accept_any,
        )

    def _mailbox(self, row: MailboxRow, domains: dict[str, Domain]) -> Mailbox:
        state = self.states[row.domain]
        assert state is not None
        stored = row.password_hash or passwords.hash_password(row.password or "")
        return Mailbox(
            domain=domains[row.domain],
            local_part=row.local_part,
            name=row.name,
            password=stored,
            quota=state.max_mailbox_quota if row.quota is None else row.quota,
            format=row.format,
            path=row.path,
            uid=row.uid,
            gid=row.gid,
            active=row.active,
        )

    def _write_aliases(self, rows: list[AliasRow], domains: dict[str, Domain]) -> None:
        if not rows:
            return
        aliases = [
            Alias(
                domain=domains[row.domain],
                local_part=row.local_part,
                description=row.description,
                active=row.active,
            )
            for row in rows
        ]
        Alias.objects.bulk_create(aliases)
        _fill_ids(Alias, aliases)
        for row in rows:
            self.written_aliases[row.address] = (row.line, row.destinations)
        AliasDestination.objects.bulk_create(
            AliasDestination(alias=alias, address=address)
            for alias, row in zip(aliases, rows, strict=True)
            for address in row.destinations
        )
        self._audit(
            (
                alias,
                row.domain,
                {
                    "destinations": list(row.destinations),
                    "description": alias.description,
                    "active": alias.active,
                },
            )
            for alias, row in zip(aliases, rows, strict=True)
        )


# The tables an import fills, whose planner statistics analyze_tables refreshes.
ANALYZED = (
    Domain,
    AliasDomain,
    RelayRecipient,
    Mailbox,
    Alias,
    AliasDestination,
)


def analyze_tables() -> None:
    """Refresh the planner statistics of the tables an import fills, once it is committed.

    A bulk import of thousands of rows into near-empty tables leaves the planner's statistics
    behind (autovacuum's analyze comes later, if at all): until then the first lookups of
    Postfix and Dovecot may be planned as scans. Every caller of a committing import calls
    this: the web and CLI import jobs (transfer/jobs.py), `manage.py import_csv` and the
    PostfixAdmin migration. Inside a transaction it waits for the commit (MariaDB's ANALYZE
    TABLE would commit it early).
    """
    transaction.on_commit(_analyze)


def _analyze() -> None:
    """The import is committed whatever happens here: a failure is logged, never raised."""
    tables = [model._meta.db_table for model in ANALYZED]
    quote = connection.ops.quote_name
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "mysql":
                cursor.execute("ANALYZE TABLE " + ", ".join(quote(t) for t in tables))
                cursor.fetchall()
            else:
                for table in tables:
                    cursor.execute(f"ANALYZE {quote(table)}")
    except DatabaseError:
        log.warning(
            "ANALYZE after an import failed; the statistics wait for autovacuum", exc_info=True
        )


# What an import's audit entry of each object records (passwords never).
_DOMAIN_FIELDS = (
    "description",
    "delivery",
    "transport",
    "max_mailboxes",
    "max_aliases",
    "max_mailbox_quota",
    "total_quota",
    "uid",
    "gid",
    "active",
    "relay_accept_any",
)
_MAILBOX_FIELDS = ("name", "quota", "format", "path", "uid", "gid", "active")


_MODELS: dict[str, type[Mailbox] | type[Alias] | type[RelayRecipient]] = {
    "mailbox": Mailbox,
    "alias": Alias,
    "relayrecipient": RelayRecipient,
}


def _kind(row: AddressRow) -> str:
    if isinstance(row, MailboxRow):
        return "mailbox"
    if isinstance(row, RelayRecipientRow):
        return "relayrecipient"
    return "alias"


def _fields(obj: Any, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _fill_ids(model: type[Any], objects: Sequence[Any]) -> None:
    """Primary keys for the objects bulk_create left without (MySQL returns none): one query
    per domain, by local part (alias domains by name)."""
    missing = [obj for obj in objects if obj.pk is None]
    if model is AliasDomain:
        names = [obj.name for obj in missing]
        found = dict(AliasDomain.objects.filter(name__in=names).values_list("name", "pk"))
        for obj in missing:
            obj.pk = found[obj.name]
        return
    by_domain: dict[int, list[Any]] = {}
    for obj in missing:
        by_domain.setdefault(obj.domain_id, []).append(obj)
    for domain_id, group in by_domain.items():
        rows = model.objects.filter(
            domain_id=domain_id, local_part__in=[obj.local_part for obj in group]
        ).values_list("local_part", "pk")
        keys = dict(rows)
        for obj in group:
            obj.pk = keys[obj.local_part]
