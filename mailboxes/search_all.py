"""The top bar's search: domains, alias domains, mailboxes and aliases across every domain the
admin may see (a superadmin: all; a domain admin: their own), scoped by the same selectors as
every list.

A term matches as the lists match (mailadmin/search.py: a case-insensitive "contains", served
on PostgreSQL by the trigram indexes of domains 0005 and mailboxes 0005), so it needs
MIN_TERM characters: a trigram index cannot answer fewer, and one or two letters would read
every mailbox at a million. A term with "@" is an address: what is before it must be in the
local part, what follows it the start of the domain ("john@exa"); either side may be empty
("@example.com" lists the domain's addresses, "john@" the johns of every domain). Domain
names match in both spellings: "bücher" finds xn--bcher-kva.example.

Each kind shows at most `limit` rows, by domain then address, and says when there are more:
one query per kind with LIMIT limit + 1, never a count over the whole match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from django.db.models import Prefetch, Q, QuerySet

from domains.models import AliasDomain, Domain
from domains.selectors import alias_domains_visible_to, domains_visible_to, search_form_of
from mailadmin.access import User
from mailadmin.search import contains_text
from mailboxes.models import Alias, AliasDestination, Mailbox
from mailboxes.selectors import aliases_visible_to, mailboxes_visible_to

MIN_TERM = 3
SHOWN_IN_POPUP = 5
SHOWN_ON_PAGE = 50

M = TypeVar("M", Domain, AliasDomain, Mailbox, Alias)


@dataclass
class Found:
    """Up to `limit` rows of one kind, and whether more matched."""

    rows: list = field(default_factory=list)
    more: bool = False


@dataclass
class SearchResults:
    term: str
    too_short: bool = False
    domains: Found = field(default_factory=Found)
    alias_domains: Found = field(default_factory=Found)
    mailboxes: Found = field(default_factory=Found)
    aliases: Found = field(default_factory=Found)

    @property
    def empty(self) -> bool:
        return not any(
            kind.rows for kind in (self.domains, self.alias_domains, self.mailboxes, self.aliases)
        )


def search_all(*, user: User | None, term: str, limit: int = SHOWN_IN_POPUP) -> SearchResults:
    term = " ".join(term.split())
    results = SearchResults(term=term)
    if not term:
        return results
    local, at, domain_part = term.rpartition("@") if "@" in term else (term, "", "")
    if len(term.replace("@", "")) < MIN_TERM:
        results.too_short = True
        return results
    if at:
        # An address: the local part contains what is before "@", the domain starts with
        # what follows it (its A-label form, as stored).
        domain_filter = _domain_starts(search_form_of(domain_part)) if domain_part else Q()
        mailbox_q = _local_contains(local) & domain_filter
        alias_q = _local_contains(local) & domain_filter
        name_q = Q(name__startswith=search_form_of(domain_part)) if domain_part else Q()
        results.mailboxes = _first(mailboxes_visible_to(user).filter(mailbox_q), limit)
        results.aliases = _first(
            _with_destinations(aliases_visible_to(user).filter(alias_q)), limit
        )
        if not local and domain_part:
            results.domains = _first(domains_visible_to(user).filter(name_q), limit, "name")
            results.alias_domains = _first(
                alias_domains_visible_to(user).filter(name_q), limit, "name"
            )
        return results
    stored = search_form_of(term)
    domain_q = contains_text("name", stored) | contains_text("name", term)
    results.domains = _first(
        domains_visible_to(user).filter(domain_q | contains_text("description", term)),
        limit,
        "name",
    )
    results.alias_domains = _first(alias_domains_visible_to(user).filter(domain_q), limit, "name")
    results.mailboxes = _first(
        mailboxes_visible_to(user).filter(
            contains_text("local_part", term) | contains_text("name", term)
        ),
        limit,
    )
    results.aliases = _first(
        _with_destinations(aliases_visible_to(user).filter(contains_text("local_part", term))),
        limit,
    )
    return results


def _local_contains(local: str) -> Q:
    return contains_text("local_part", local) if local else Q()


def _domain_starts(prefix: str) -> Q:
    return Q(domain__name__startswith=prefix)


def _with_destinations(aliases: QuerySet[Alias]) -> QuerySet[Alias]:
    return aliases.prefetch_related(
        Prefetch("destinations", queryset=AliasDestination.objects.order_by("address"))
    )


def _first(qs: QuerySet[M], limit: int, *order: str) -> Found:
    rows = list(qs.order_by(*(order or ("domain__name", "local_part")))[: limit + 1])
    return Found(rows=rows[:limit], more=len(rows) > limit)
