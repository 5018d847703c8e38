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

Each kind shows at most `limit` rows and says when there are more: one query per kind with
LIMIT limit + 1, never a count over the whole match. The order follows what PostgreSQL does
fastest at a million mailboxes (docs/benchmarks.md). Over the whole server (a superadmin's
search) addresses come by domain, then local part: the plan walks the domains' name index
and stops after a page. Within some domains (a domain admin's, or those a typed domain
prefix names) they come by local part, then domain, and the domains go into the query as a
list of ids, so that PostgreSQL ANDs the trigram bitmap with the (domain_id, local_part)
index and sorts only the matches; as a join, or ordered by the domain's name, it walked a
100,000-mailbox domain's index instead (110-280 ms against 10-50 ms).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from django.db.models import Prefetch, Q, QuerySet

from domains.models import AliasDomain, Domain
from domains.selectors import alias_domains_visible_to, domains_visible_to, search_form_of
from mailadmin.access import User, is_superadmin
from mailadmin.search import contains_text
from mailboxes.models import Alias, AliasDestination, Mailbox
from mailboxes.selectors import aliases_visible_to, mailboxes_visible_to

MIN_TERM = 3
SHOWN_IN_POPUP = 5
SHOWN_ON_PAGE = 25
# Past this many domains the ids stay a subquery: a list that long costs more than it saves.
MAX_LISTED_DOMAINS = 1000

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
    if len(term.replace("@", "")) < MIN_TERM:
        results.too_short = True
        return results
    if "@" in term:
        return _search_address(user, term, limit, results)
    stored = search_form_of(term)
    domain_q = contains_text("name", stored) | contains_text("name", term)
    results.domains = _first(
        domains_visible_to(user).filter(domain_q | contains_text("description", term)),
        limit,
        "name",
    )
    results.alias_domains = _first(alias_domains_visible_to(user).filter(domain_q), limit, "name")
    mailboxes, aliases, order = _scoped(user, domains_visible_to(user), everything=True)
    mailbox_q = contains_text("local_part", term) | contains_text("name", term)
    results.mailboxes = _first(mailboxes.filter(mailbox_q), limit, *order)
    aliases = aliases.filter(contains_text("local_part", term))
    results.aliases = _first(_with_destinations(aliases), limit, *order)
    return results


def _search_address(
    user: User | None, term: str, limit: int, results: SearchResults
) -> SearchResults:
    """What is before "@" is in the local part, what follows it starts the domain's name (its
    A-label form, as stored)."""
    local, _at, domain_part = term.rpartition("@")
    domains = domains_visible_to(user)
    prefix = search_form_of(domain_part) if domain_part else ""
    if prefix:
        domains = domains.filter(name__startswith=prefix)
    mailboxes, aliases, order = _scoped(user, domains, everything=not prefix)
    local_q = contains_text("local_part", local) if local else Q()
    results.mailboxes = _first(mailboxes.filter(local_q), limit, *order)
    results.aliases = _first(_with_destinations(aliases.filter(local_q)), limit, *order)
    if not local and prefix:
        results.domains = _first(domains, limit, "name")
        results.alias_domains = _first(
            alias_domains_visible_to(user).filter(name__startswith=prefix), limit, "name"
        )
    return results


BY_DOMAIN = ("domain__name", "local_part")
BY_ADDRESS = ("local_part", "domain__name")


def _scoped(
    user: User | None, domains: QuerySet[Domain], *, everything: bool
) -> tuple[QuerySet[Mailbox], QuerySet[Alias], tuple[str, ...]]:
    """The mailboxes and aliases of `domains` (a subset of what `user` may see) and their
    order: a superadmin's whole server (`everything`) needs no condition; otherwise the ids
    as a list when short enough (see the module's text)."""
    if everything and (user is None or is_superadmin(user)):
        return mailboxes_visible_to(user), aliases_visible_to(user), BY_DOMAIN
    ids = list(domains.order_by().values_list("pk", flat=True)[: MAX_LISTED_DOMAINS + 1])
    if len(ids) > MAX_LISTED_DOMAINS:
        return (
            mailboxes_visible_to(user).filter(domain__in=domains),
            aliases_visible_to(user).filter(domain__in=domains),
            BY_ADDRESS,
        )
    # The ids come from domains, itself scoped by domains_visible_to(user).
    return (
        Mailbox.objects.select_related("domain").filter(domain_id__in=ids),
        Alias.objects.select_related("domain").filter(domain_id__in=ids),
        BY_ADDRESS,
    )


def _with_destinations(aliases: QuerySet[Alias]) -> QuerySet[Alias]:
    return aliases.prefetch_related(
        Prefetch("destinations", queryset=AliasDestination.objects.order_by("address"))
    )


def _first(qs: QuerySet[M], limit: int, *order: str) -> Found:
    rows = list(qs.order_by(*order)[: limit + 1])
    return Found(rows=rows[:limit], more=len(rows) > limit)
