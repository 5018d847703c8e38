"""The checking pass of an import, second read: mailboxes, aliases and relay recipients.

Each row is checked by the rules of mailboxes/rules.py (the services' own) against its
domain's DomainState, in batches: the database is asked once per domain and batch for the
addresses that exist already (transfer/checking.py has the first read and the shared state).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from domains.models import RelayRecipient
from domains.relay import check_relay_delivery
from mailadmin.writes import not_yours
from mailboxes import rules
from mailboxes.maildirs import awaiting_archive_error, homes_awaiting_archive
from mailboxes.models import Alias, Mailbox
from mailboxes.storage import check_owner_ids, path_conflict
from transfer.checking import BATCH, Checker, DomainState
from transfer.csvformat import BadLine
from transfer.report import Report, problem_text
from transfer.rows import (
    AliasRow,
    MailboxRow,
    RelayRecipientRow,
    parse_alias,
    parse_mailbox,
    parse_relay_recipient,
)

AddressRow = MailboxRow | AliasRow | RelayRecipientRow
PARSERS: dict[str, Callable[[int, dict[str, str]], AddressRow]] = {
    "mailbox": parse_mailbox,
    "alias": parse_alias,
    "relayrecipient": parse_relay_recipient,
}
_MODELS: dict[str, type[Mailbox] | type[Alias] | type[RelayRecipient]] = {
    "mailbox": Mailbox,
    "alias": Alias,
    "relayrecipient": RelayRecipient,
}


def kind_of(row: AddressRow) -> str:
    if isinstance(row, MailboxRow):
        return "mailbox"
    if isinstance(row, RelayRecipientRow):
        return "relayrecipient"
    return "alias"


class AddressChecker(Checker):
    """Both reads of the checking pass: `validate` checks every row and returns the report."""

    def validate(self) -> Report:
        self._reset()
        self._pass_domains()
        self._pass_addresses()
        self._check_self_aliases()
        return self.report

    def _pass_addresses(self) -> None:
        pending: list[AddressRow] = []
        for index, item in enumerate(self.source, 1):
            self._tick("check", index)
            if isinstance(item, BadLine):
                continue
            kind = item.cells.get("type", "").strip().lower()
            if kind not in PARSERS:
                continue
            try:
                row: AddressRow = PARSERS[kind](item.line, item.cells)
            except ValidationError as exc:
                self._bad(item.line, problem_text(exc))
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
                self._bad(row.line, problem_text(exc))

    def _taken_in_database(self, rows: Sequence[AddressRow]) -> set[str]:
        wanted: dict[tuple[str, int], set[str]] = {}
        for row in rows:
            state = self._state(row.domain)
            if state is not None and state.pk is not None:
                wanted.setdefault((kind_of(row), state.pk), set()).add(row.local_part)
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
            raise ValidationError({"address": not_yours(self.actor, domain)})
        rules.check_hosted(domain, hosted=state.hosted)
        return state

    def _check_mailbox(self, row: MailboxRow, taken: set[str]) -> None:
        """mailboxes.services.mailbox_create's rules, the domain's counts from its state."""
        state = self._usable_state(row.domain)
        key = f"mailbox:{row.address}"
        if key in self.seen or key in taken:
            what = _("the mailbox %(address)s") % {"address": row.address}
            self._check_duplicate(key, row.line, what)
            self.seen.add(key, row.line)
            self._existing(row.line, rules.mailbox_exists(row.address))
            return
        try:
            check_owner_ids(self.actor, row.uid, row.gid)
        except PermissionDenied as exc:
            raise ValidationError(str(exc)) from None
        if row.domain not in self.awaiting_archive:
            self.awaiting_archive[row.domain] = homes_awaiting_archive(row.domain)
        pending = self.awaiting_archive[row.domain]
        if row.local_part in pending or "*" in pending:
            raise ValidationError({"address": awaiting_archive_error(row.address)})
        rules.check_room_for_mailbox(
            state, mailboxes=state.existing_mailboxes + state.new_mailboxes
        )
        quota = rules.quota_or_default(state, row.quota)
        rules.check_quota(state, quota, allocated=state.existing_quota + state.new_quota)
        self._claim_path(row)
        self.seen.add(key, row.line)
        state.new_mailboxes += 1
        state.new_quota += quota
        self.report.created["mailbox"] += 1

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
            {"maildir": rules.path_taken(row.path, holder.address if holder else "?")}
        )

    def _check_alias(self, row: AliasRow, taken: set[str]) -> None:
        """mailboxes.services.alias_create's rules; loops are checked after the writes
        (transfer.importer.Importer.commit), when every row of the file is in place."""
        state = self._usable_state(row.domain)
        key = f"alias:{row.address}"
        if key in self.seen or key in taken:
            what = _("the alias %(address)s") % {"address": row.address}
            self._check_duplicate(key, row.line, what)
            self.seen.add(key, row.line)
            self._existing(row.line, rules.alias_exists(row.address))
            return
        rules.check_room_for_alias(state, aliases=state.existing_aliases + state.new_aliases)
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
            raise ValidationError({"address": not_yours(self.actor, row.domain)})
        check_relay_delivery(name=row.domain, hosted=state.hosted)
        key = f"relayrecipient:{row.address}"
        if key in self.seen or key in taken:
            what = _("the relay recipient %(address)s") % {"address": row.address}
            self._check_duplicate(key, row.line, what)
            self.seen.add(key, row.line)
            self._existing(row.line, _("%(what)s already exists") % {"what": what})
            return
        self.seen.add(key, row.line)
        self.report.created["relayrecipient"] += 1

    def _check_self_aliases(self) -> None:
        for row in self.self_aliases:
            is_mailbox = f"mailbox:{row.address}" in self.seen or (
                bool(row.local_part)
                and Mailbox.objects.filter(
                    domain__name=row.domain, local_part=row.local_part
                ).exists()
            )
            try:
                rules.check_self_destination(row.address, row.destinations, is_mailbox=is_mailbox)
            except ValidationError as exc:
                self._bad(row.line, problem_text(exc))
                self.report.created["alias"] -= 1
                state = self.states.get(row.domain)
                if state is not None:
                    state.new_aliases -= 1
