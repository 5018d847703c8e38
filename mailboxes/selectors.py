"""Reads of mailboxes and aliases, scoped through domains.selectors, and the dashboard's
counts (which add the mailboxes and aliases to the domains' figures).

Mailbox lists carry each mailbox's quota usage (QuotaUsage, what Dovecot last reported) in
the same query, joined through the usage table's unique mailbox_id."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from domains.models import AliasDomain, Domain, DomainUsage
from domains.selectors import domains_visible_to
from mailadmin.access import User, is_superadmin
from mailadmin.names import split_address
from mailadmin.search import contains_text
from mailboxes.models import NEARLY_FULL_PERMILLE, Alias, AliasDestination, Mailbox, QuotaUsage

# No "domain_id IN (every domain)" for superadmins: at a million rows PostgreSQL answers that
# with a hash join over the whole table.
_sees_everything = is_superadmin


def mailboxes_visible_to(user: User | None) -> QuerySet[Mailbox]:
    if _sees_everything(user):
        return Mailbox.objects.select_related("domain")
    return Mailbox.objects.filter(domain__in=domains_visible_to(user)).select_related("domain")


# The mailbox list's orders besides the address: by usage, fullest first or emptiest first.
USAGE_ORDERINGS = ("-usage", "usage")


def mailbox_list(
    *,
    user: User | None,
    domain: Domain | None = None,
    search: str = "",
    nearly_full: bool = False,
    active: bool | None = None,
    storage_format: str = "",
) -> QuerySet[Mailbox]:
    """Mailboxes by address, each with its quota_usage (None: not reported yet); `active`
    and `storage_format` filter when given (the disabled ones along the partial index of
    mailboxes 0004)."""
    qs = mailboxes_visible_to(user).select_related("quota_usage")
    if domain is not None:
        qs = qs.filter(domain=domain)
    if active is not None:
        qs = qs.filter(active=active)
    if storage_format:
        qs = qs.filter(format=storage_format)
    if search:
        # UPPER(col) LIKE: the expressions of the trigram indexes (mailboxes 0005).
        term = search.strip()
        qs = qs.filter(contains_text("local_part", term) | contains_text("name", term))
    if nearly_full:
        qs = qs.filter(quota_usage__permille__gte=NEARLY_FULL_PERMILLE)
    # One domain's list walks the unique (domain_id, local_part) index in order; ordering by
    # the domain's name too would make PostgreSQL fetch and sort the whole domain.
    return (
        qs.order_by("local_part")
        if domain is not None
        else qs.order_by("domain__name", "local_part")
    )


def mailbox_list_by_usage(
    *,
    user: User | None,
    domain: Domain | None = None,
    search: str = "",
    nearly_full: bool = False,
    fullest_first: bool = True,
    active: bool | None = None,
    storage_format: str = "",
) -> list[QuerySet[Mailbox]]:
    """mailbox_list's mailboxes by usage, as consecutive segments to page through in turn
    (mailadmin.pagination.paginate_segments): mailboxes with a quota by permille, then those
    without a quota by bytes used, then those Dovecot has not reported yet, by address.

    One ORDER BY permille NULLS LAST over a domain would sort all its mailboxes for every
    page (575 ms in the 100,000-mailbox domain at a million); each segment here is ordered
    along an index of the usage table (quota_usage_by_permille, quota_usage_by_domain) or
    the mailbox's (domain_id, local_part) and stops after a page, 5-15 ms at that size.
    """
    base = mailbox_list(
        user=user,
        domain=domain,
        search=search,
        nearly_full=nearly_full,
        active=active,
        storage_format=storage_format,
    )
    # The usage row's own domain_id (kept by its triggers) lets the planner filter the
    # domain inside the usage index scan instead of probing every mailbox it walks past.
    reported = base.filter(quota_usage__domain=domain) if domain is not None else base
    way = "-" if fullest_first else ""
    with_quota = reported.filter(quota_usage__permille__isnull=False).order_by(
        f"{way}quota_usage__permille", f"{way}quota_usage__bytes", "local_part"
    )
    if nearly_full:
        # Everything at 90% or more has a quota: the other segments are empty.
        return [with_quota]
    without_quota = reported.filter(
        quota_usage__isnull=False, quota_usage__permille__isnull=True
    ).order_by(f"{way}quota_usage__bytes", "local_part")
    # NOT EXISTS, which PostgreSQL runs as an anti-join along the address index; the LEFT
    # JOIN's "IS NULL" made it hash the whole usage table (565 ms at a million).
    unreported = base.filter(~Exists(QuotaUsage.objects.filter(mailbox=OuterRef("pk"))))
    return [with_quota, without_quota, unreported]


def mailboxes_nearly_full(*, user: User | None, limit: int = 5) -> list[Mailbox]:
    """The fullest visible mailboxes at 90% of their quota or more, fullest first.

    Walks quota_usage_by_permille from the top. A domain admin's domains are read first and
    given as a list: matched against the usage row's domain_id, a list lets the planner weigh
    each domain (a big one: walk the fullest and stop, 5 ms at a million; small ones: their
    rows only, 8 ms), where the subquery made it read every row of each domain, 100 ms for an
    admin of the 100,000-mailbox domain."""
    if _sees_everything(user):
        qs = Mailbox.objects.all()
    else:
        domains = list(domains_visible_to(user).values_list("pk", flat=True))
        qs = Mailbox.objects.filter(domain__in=domains, quota_usage__domain__in=domains)
    qs = qs.select_related("domain", "quota_usage")
    qs = qs.filter(quota_usage__permille__gte=NEARLY_FULL_PERMILLE)
    return list(qs.order_by("-quota_usage__permille", "-quota_usage__bytes", "pk")[:limit])


def mailbox_get(*, user: User | None, address: str) -> Mailbox:
    try:
        local_part, domain_name = split_address(address)
    except ValidationError:
        raise Http404("no such mailbox") from None
    try:
        return mailboxes_visible_to(user).get(domain__name=domain_name, local_part=local_part)
    except Mailbox.DoesNotExist:
        raise Http404("no such mailbox") from None


def aliases_visible_to(user: User | None) -> QuerySet[Alias]:
    if _sees_everything(user):
        return Alias.objects.select_related("domain")
    return Alias.objects.filter(domain__in=domains_visible_to(user)).select_related("domain")


def alias_list(
    *,
    user: User | None,
    domain: Domain | None = None,
    search: str = "",
    active: bool | None = None,
) -> QuerySet[Alias]:
    """Aliases with their destinations prefetched (two queries, whatever the page size)."""
    qs = aliases_visible_to(user)
    if domain is not None:
        qs = qs.filter(domain=domain)
    if active is not None:
        qs = qs.filter(active=active)
    if search:
        term = search.strip()
        qs = qs.filter(
            contains_text("local_part", term) | contains_text("destinations__address", term)
        )
        qs = qs.distinct()
    order = ("local_part",) if domain is not None else ("domain__name", "local_part")
    # No annotation over the destinations: a GROUP BY would aggregate the whole rest of the
    # domain before the LIMIT (421 ms in the 100,000-mailbox domain), where the plain query
    # walks the (domain_id, local_part) index and stops after a page.
    return qs.prefetch_related(
        Prefetch("destinations", queryset=AliasDestination.objects.order_by("address"))
    ).order_by(*order)


def alias_get(*, user: User | None, address: str) -> Alias:
    try:
        local_part, domain_name = split_address(address, allow_catchall=True)
    except ValidationError:
        raise Http404("no such alias") from None
    try:
        return aliases_visible_to(user).get(domain__name=domain_name, local_part=local_part)
    except Alias.DoesNotExist:
        raise Http404("no such alias") from None


def mailbox_in_domain(*, user: User | None, domain: Domain, pk: int) -> Mailbox:
    """One mailbox of `domain` (already checked visible), or a 404 for anything else."""
    try:
        return mailboxes_visible_to(user).get(domain=domain, pk=pk)
    except Mailbox.DoesNotExist:
        raise Http404("no such mailbox") from None


def alias_in_domain(*, user: User | None, domain: Domain, pk: int) -> Alias:
    """One alias of `domain` with its destinations prefetched, or a 404."""
    try:
        return alias_list(user=user, domain=domain).get(pk=pk)
    except Alias.DoesNotExist:
        raise Http404("no such alias") from None


def catchall_of(*, user: User | None, domain: Domain) -> Alias | None:
    """The domain's catch-all alias (empty local part), active or not."""
    return alias_list(user=user, domain=domain).filter(local_part="").first()


def dashboard_summary(*, user: User | None) -> dict[str, int]:
    """How many domains, mailboxes, aliases and alias domains the user sees, and how many of
    each are inactive; every figure exact at the moment of the view.

    Mailbox and alias totals add up the visible domains' DomainUsage rows (one row per domain,
    not one per mailbox). Inactive counts come from partial indexes that hold only the
    inactive rows, 1% of them (migrations mailboxes/0004 and 0006, PostgreSQL and SQLite).
    """
    visible = domains_visible_to(user)
    summary: dict[str, int] = {}
    for kind, qs in (
        ("domains", visible),
        ("alias_domains", AliasDomain.objects.filter(target__in=visible)),
    ):
        row = qs.order_by().aggregate(
            total=Count("pk"), inactive=Count("pk", filter=Q(active=False))
        )
        summary[kind] = row["total"]
        summary[f"{kind}_inactive"] = row["inactive"]
    everything = is_superadmin(user)
    usage = DomainUsage.objects.order_by()
    totals = (usage if everything else usage.filter(domain__in=visible)).aggregate(
        mailboxes=Coalesce(Sum("mailboxes"), 0), aliases=Coalesce(Sum("aliases"), 0)
    )
    for kind, model in (("mailboxes", Mailbox), ("aliases", Alias)):
        # Everything: no "domain_id IN (every domain)", which PostgreSQL answers with a hash
        # join over all rows (half a second at a million mailboxes).
        rows = model.objects.order_by() if everything else model.objects.filter(domain__in=visible)
        summary[f"{kind}_inactive"] = rows.filter(active=False).count()
        summary[kind] = int(totals[kind])
    return summary
