"""The checking pass of an import: every row against the services' rules, nothing written.

The rules are those of domains/services.py and mailboxes/rules.py, called with the values of
each row and what this import knows of its domain (DomainState: the domain's limits, its
DomainUsage counters and what the file added so far), so that every bad line is reported with
its number and the services' own message. The source is read in passes and never held in
memory: domains and alias domains first (here; the other rows depend on them), then mailboxes,
aliases and relay recipients a batch at a time (transfer/checking_addresses.py). What does
grow with the file is the compact index of addresses seen (mailadmin/digestindex.py, about 24
bytes a row, for duplicates within the file) and the list of errors (capped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from domains.models import AliasDomain, Domain, DomainUsage
from domains.selectors import domains_visible_to
from domains.services import (
    alias_domain_exists,
    check_alias_domain_allowed,
    check_alias_domain_target,
    check_new_domain,
    check_not_a_domain,
    domain_exists,
)
from mailadmin.access import Actor, is_superadmin
from mailadmin.digestindex import DigestIndex
from mailadmin.writes import not_yours
from mailboxes.storage import PathIndex
from transfer.csvformat import KINDS, BadLine, Record
from transfer.report import Report, problem_text
from transfer.rows import AliasDomainRow, AliasRow, DomainRow, parse_alias_domain, parse_domain

Source = Iterable[Record | BadLine]
Progress = Callable[[str, int, int], None]

BATCH = 1000


@dataclass
class DomainState:
    """What the import needs to know of a domain: limits, and its counts as rows are added.

    The limits are read as the rules read a Domain row (mailboxes.rules.Limits)."""

    name: str
    pk: int | None  # None: created by this import
    hosted: bool
    max_mailboxes: int
    max_aliases: int
    max_mailbox_quota: int
    total_quota: int
    default_mailbox_quota: int = 0
    # The domain's DomainUsage counters (domains/usage_triggers.py) when the check began.
    existing_mailboxes: int = 0
    existing_aliases: int = 0
    existing_quota: int = 0
    new_mailboxes: int = 0
    new_aliases: int = 0
    new_quota: int = 0

    def counts(self) -> tuple[int, int, int]:
        return (self.existing_mailboxes, self.existing_aliases, self.existing_quota)

    def load(self, usage: DomainUsage) -> None:
        self.existing_mailboxes = usage.mailboxes
        self.existing_aliases = usage.aliases
        self.existing_quota = usage.quota_allocated


class Checker:
    """The checking pass over `source` as `actor`: the state every check shares, and the
    first read of the source, for its domains and alias domains (transfer/checking_addresses.py
    checks the rest; transfer.importer.Importer is both)."""

    def __init__(
        self,
        source: Source,
        *,
        actor: Actor,
        actor_label: str = "",
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
        # Who the audit log names when actor is None (the default says "system").
        self.actor_label = actor_label
        self.on_existing = on_existing
        self.progress = progress
        self.total = total

    def _reset(self) -> None:
        self.report = Report()
        self.visible = domains_visible_to(self.actor)
        self.is_superuser = is_superadmin(self.actor)
        # The homes and paths of every mailbox of the domains this import touches.
        self.paths = PathIndex()
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

    def _existing(self, line: int, message: str) -> None:
        """The row's object exists already: `message` is the service's for that case."""
        if self.on_existing == "skip":
            self.report.skip(line, message)
            self.skipped_lines.add(line)
        else:
            self._bad(line, message)

    def _check_duplicate(self, key: str, line: int, what: str) -> None:
        first = self.seen.get(key)
        if first is not None:
            raise ValidationError(
                _("%(what)s is already on line %(line)d") % {"what": what, "line": first}
            )

    # --- domains and alias domains -------------------------------------------------------------

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
                self._bad(item.line, problem_text(exc))
        if self.progress is not None:
            self.progress("read", self.report.rows, self.total or self.report.rows)
        # Alias domains after every domain row: their target may come later in the file.
        for row in alias_domain_rows:
            try:
                self._check_alias_domain(row)
            except ValidationError as exc:
                self._bad(row.line, problem_text(exc))

    def _check_domain(self, row: DomainRow) -> None:
        """domains.services.domain_create's rules; the row's cells were read by its rules."""
        if not self.is_superuser:
            raise ValidationError(_("Only a superadmin can create domains."))
        if row.name in self.new_domains:
            raise ValidationError(
                _("%(name)s is already on line %(line)d")
                % {"name": row.name, "line": self.new_domains[row.name].line}
            )
        if Domain.objects.filter(name=row.name).exists():
            self._existing(row.line, domain_exists(row.name))
            return
        check_new_domain(row.name)
        self.new_domains[row.name] = row
        self.report.created["domain"] += 1

    def _check_alias_domain(self, row: AliasDomainRow) -> None:
        """domains.services.alias_domain_create's rules, in its order."""
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
        target = self._state(row.target)
        if target is None:
            raise ValidationError({"target": not_yours(self.actor, row.target)})
        check_alias_domain_target(name=row.name, target=row.target, hosted=target.hosted)
        # Before anything that tells whether the name exists: the same answer either way.
        check_alias_domain_allowed(actor=self.actor, name=row.name, target_pk=target.pk)
        existing = AliasDomain.objects.filter(name=row.name).select_related("target").first()
        if existing is not None:
            if existing.target.name == row.target or self.on_existing == "error":
                self._existing(row.line, alias_domain_exists(row.name))
                return
            raise ValidationError(
                _("%(name)s is already an alias domain of %(target)s")
                % {"name": row.name, "target": existing.target.name}
            )
        check_not_a_domain(row.name)
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
                row.default_mailbox_quota,
            )
        else:
            domain = self.visible.filter(name=name).select_related("usage").first()
            if domain is not None:
                state = DomainState(
                    name,
                    domain.pk,
                    domain.is_hosted,
                    domain.max_mailboxes,
                    domain.max_aliases,
                    domain.max_mailbox_quota,
                    domain.total_quota,
                    domain.default_mailbox_quota,
                )
                state.load(domain.usage)
                self.names_by_pk[domain.pk] = name
                if state.hosted:
                    self.paths.load_domain(domain.pk, name)
        self.states[name] = state
        return state
