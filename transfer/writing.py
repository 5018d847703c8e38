"""The writing pass of an import: bulk inserts of what the checking pass accepted.

100,000 rows are written in seconds with bulk inserts a thousand at a time, with an audit
entry for every object naming what was set (as the services record it, passwords never).
The database constraints stay the judge: a row that slipped past a check fails the whole
transaction (transfer.importer.Importer.commit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from audit.services import new_entry, record_many
from domains.models import AliasDomain, Domain, RelayRecipient
from domains.services import AUDITED_FIELDS as DOMAIN_FIELDS
from mailadmin import passwords
from mailboxes import rules
from mailboxes.models import Alias, AliasDestination, Mailbox
from mailboxes.services import AUDITED_FIELDS as MAILBOX_FIELDS
from transfer.checking import BATCH, Checker
from transfer.csvformat import BadLine
from transfer.rows import (
    AliasRow,
    DomainRow,
    MailboxRow,
    parse_alias,
    parse_mailbox,
    parse_relay_recipient,
)

# An imported mailbox may bring a path of its own: its audit entry names it too.
_MAILBOX_FIELDS = (*MAILBOX_FIELDS, "path")


class Writer:
    """Writes the rows `checked` accepted (its source read once more), as its actor."""

    def __init__(self, checked: Checker) -> None:
        self.checked = checked
        self.actor = checked.actor
        self.actor_label = checked.actor_label
        # address -> (line, destinations) of every alias written, for the loop check.
        self.written_aliases: dict[str, tuple[int, tuple[str, ...]]] = {}

    def write(self) -> None:
        checked = self.checked
        new_domains = [_domain(row) for row in checked.new_domains.values()]
        Domain.objects.bulk_create(new_domains, batch_size=BATCH)
        domains = self._domains(
            set(checked.new_domains) | {r.target for r in checked.new_alias_domains.values()}
        )
        for domain in new_domains:
            domain.pk = domains[domain.name].pk
        self._audit((d, d.name, _fields(d, DOMAIN_FIELDS)) for d in new_domains)
        alias_domains = [
            AliasDomain(name=row.name, target=domains[row.target], active=row.active)
            for row in checked.new_alias_domains.values()
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
        for item in checked.source:
            if isinstance(item, BadLine) or item.line in checked.skipped_lines:
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
                new_entry(
                    actor=self.actor,
                    actor_label=self.actor_label,
                    action="create",
                    obj=obj,
                    domain=domain,
                    changes=set_,
                )
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
        progress = self.checked.progress
        if progress is not None:
            created = self.checked.report.created
            progress("write", done, created["mailbox"] + created["alias"])

    def _domains(self, names: set[str]) -> dict[str, Domain]:
        """`names` plus every domain already in a state (loaded or new), with their keys."""
        names |= set(self.checked.states)
        domains: dict[str, Domain] = {}
        items = sorted(names)
        for start in range(0, len(items), BATCH):
            chunk = items[start : start + BATCH]
            for name, pk in Domain.objects.filter(name__in=chunk).values_list("name", "pk"):
                domains[name] = Domain(pk=pk, name=name)
        return domains

    def _mailbox(self, row: MailboxRow, domains: dict[str, Domain]) -> Mailbox:
        state = self.checked.states[row.domain]
        assert state is not None
        stored = row.password_hash or passwords.hash_password(row.password or "")
        return Mailbox(
            domain=domains[row.domain],
            local_part=row.local_part,
            name=row.name,
            password=stored,
            quota=rules.quota_or_default(state, row.quota),
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
        default_mailbox_quota=row.default_mailbox_quota,
        uid=row.uid,
        gid=row.gid,
        active=row.active,
        relay_accept_any=row.relay_accept_any,
    )


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
