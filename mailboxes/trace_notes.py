"""The address trace's notes read from mailadmin's tables: the TraceNotes the panel hands to
mailadmin.contract.trace.trace_address (disabled domains, alias domains, mailboxes and
aliases, role addresses and the server's postmaster fallback)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from domains.models import AliasDomain, Domain, ServerSettings
from mailadmin.contract.trace_notes import DomainState
from mailboxes.models import Alias, Mailbox


class ModelTraceNotes:
    """mailadmin.contract.trace_notes.TraceNotes over the models; it holds no state."""

    def domain_state(self, name: str) -> DomainState:
        row = Domain.objects.filter(name=name).first()
        alias_domain = AliasDomain.objects.filter(name=name).select_related("target").first()
        target_off = ""
        if alias_domain is not None and alias_domain.active:
            target = alias_domain.target
            if not (target.active and target.is_hosted):
                target_off = target.name
        return DomainState(
            disabled=row is not None and not row.active,
            alias_disabled=alias_domain is not None and not alias_domain.active,
            alias_target_off=target_off,
        )

    def inactive_mailboxes(self, domain: str, local_parts: Sequence[str]) -> Collection[str]:
        rows = Mailbox.objects.filter(domain__name=domain, local_part__in=local_parts, active=False)
        return set(rows.values_list("local_part", flat=True))

    def inactive_aliases(self, domain: str, local_parts: Collection[str]) -> Sequence[str]:
        rows = Alias.objects.filter(
            domain__name=domain, local_part__in=list(local_parts), active=False
        )
        return list(rows.values_list("local_part", flat=True))

    def role_address_is_set(self, domain: str, local_part: str) -> bool:
        return (
            Alias.objects.filter(domain__name=domain, local_part=local_part, active=True).exists()
            or Mailbox.objects.filter(domain__name=domain, local_part=local_part).exists()
        )

    def server_postmaster(self) -> str:
        row = ServerSettings.objects.filter(id=1).values_list("postmaster_address", flat=True)
        return row.first() or ""
