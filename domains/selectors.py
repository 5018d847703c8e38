"""Reads of domains, scoped to what the asking user may see.

Every view, command and API asks here: a superuser sees every domain, a domain admin only the
domains granted to them, anyone else nothing. An object outside the scope is a 404.
"""

from __future__ import annotations

import idna
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from domains.models import AliasDomain, Delivery, Domain
from domains.names import normalize_domain

User = AbstractBaseUser | AnonymousUser


def domains_visible_to(user: User | None) -> QuerySet[Domain]:
    """Domains `user` may see; None is the system itself (CLI run by the operator)."""
    if user is None or getattr(user, "is_superuser", False):
        return Domain.objects.all()
    if not user.is_authenticated or not getattr(user, "is_active", False):
        return Domain.objects.none()
    return Domain.objects.filter(admins__pk=user.pk)


def _count_of(model: type[models.Model]) -> Subquery:
    """COUNT(*) of `model`'s rows of the outer domain, as a correlated subquery: one index
    range per domain shown, instead of a join whose size is mailboxes x aliases."""
    return Subquery(
        model._default_manager.filter(domain=OuterRef("pk"))
        .order_by()
        .values("domain")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=models.IntegerField(),
    )


def with_counts(qs: QuerySet[Domain]) -> QuerySet[Domain]:
    """Annotate mailbox_count, alias_count, alias_domain_count and quota_allocated."""
    from mailboxes.models import Alias, Mailbox

    allocated = Subquery(
        Mailbox.objects.filter(domain=OuterRef("pk"))
        .order_by()
        .values("domain")
        .annotate(total=Sum("quota"))
        .values("total"),
        output_field=models.BigIntegerField(),
    )
    alias_domains = Subquery(
        AliasDomain.objects.filter(target=OuterRef("pk"))
        .order_by()
        .values("target")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=models.IntegerField(),
    )
    return qs.annotate(
        mailbox_count=Coalesce(_count_of(Mailbox), 0),
        alias_count=Coalesce(_count_of(Alias), 0),
        alias_domain_count=Coalesce(alias_domains, 0),
        quota_allocated=Coalesce(allocated, Value(0), output_field=models.BigIntegerField()),
    )


def domain_list(
    *, user: User | None, search: str = "", order: str = "name", counts: bool = True
) -> QuerySet[Domain]:
    """Visible domains with their counts as annotations (one query, whatever the page size).

    `order` is one of DOMAIN_ORDERINGS; anything else sorts by name. counts=False leaves the
    counts out unless the order needs them (for paginate_then_fill and domains_with_counts).
    """
    qs = domains_visible_to(user)
    if search:
        term = search.strip()
        # icontains compares UPPER(col::text), the expressions of the trigram indexes
        # (domains 0005), so PostgreSQL ORs index scans instead of reading every domain.
        qs = qs.filter(
            Q(name__icontains=search_form_of(term))
            | Q(name__icontains=term)
            | Q(description__icontains=term)
        )
    if order not in DOMAIN_ORDERINGS:
        order = "name"
    keys = [order] if order.lstrip("-") == "name" else [order, "name"]
    if counts or order.lstrip("-") in ("mailbox_count", "alias_count"):
        qs = with_counts(qs)
    return qs.order_by(*keys)


def domains_with_counts(pks: list[object]) -> QuerySet[Domain]:
    """The given domains with domain_list's count annotations (one query)."""
    return with_counts(Domain.objects.filter(pk__in=pks))


DOMAIN_ORDERINGS = (
    "name",
    "-name",
    "mailbox_count",
    "-mailbox_count",
    "alias_count",
    "-alias_count",
    "created_at",
    "-created_at",
)


def _near(count: str, limit: str) -> Q:
    """count >= 90% of a limit that is set (0 means no limit)."""
    return Q(**{f"{limit}__gt": 0}) & Q(**{f"{count}__gte": F(limit) * 9 / 10.0})


def domains_near_limits(*, user: User | None, limit: int = 20) -> list[Domain]:
    """Visible domains using at least 90% of their mailboxes, aliases or total quota."""
    qs = with_counts(domains_visible_to(user)).filter(
        _near("mailbox_count", "max_mailboxes")
        | _near("alias_count", "max_aliases")
        | _near("quota_allocated", "total_quota")
    )
    return list(qs.order_by("name")[:limit])


def domain_delete_impact(domain: Domain) -> dict[str, int]:
    """What deleting `domain` takes with it: mailboxes, aliases and alias domains."""
    counted = with_counts(Domain.objects.filter(pk=domain.pk)).get()
    return {
        "mailboxes": counted.mailbox_count,  # type: ignore[attr-defined]
        "aliases": counted.alias_count,  # type: ignore[attr-defined]
        "alias_domains": counted.alias_domain_count,  # type: ignore[attr-defined]
    }


# How long the superuser's mailbox and alias totals may be reused (seconds). Counting every row
# of a million-row table takes 150-250 ms; the figure may lag a minute (docs/admin-panel.md).
TOTALS_CACHE_SECONDS = 60


def dashboard_summary(*, user: User | None) -> dict[str, int]:
    """How many domains, mailboxes, aliases and alias domains the user sees, and how many of
    each are inactive.

    Inactive counts are always current: on PostgreSQL and SQLite partial indexes on the
    inactive rows (1% of them) answer them (migration mailboxes/0004). A superuser's mailbox
    and alias totals come from the cache for up to TOTALS_CACHE_SECONDS, per process; everyone
    else's are counted on each view, through the (domain_id, local_part) indexes of their
    domains.
    """
    from mailboxes.models import Alias, Mailbox

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
    everything = user is None or getattr(user, "is_superuser", False)
    for kind, model in (("mailboxes", Mailbox), ("aliases", Alias)):
        # Everything: no "domain_id IN (every domain)", which PostgreSQL answers with a hash
        # join over all rows (half a second at a million mailboxes).
        rows = model.objects.order_by() if everything else model.objects.filter(domain__in=visible)
        summary[f"{kind}_inactive"] = rows.filter(active=False).count()
        if everything and user is not None:
            cached = cache.get_or_set(
                f"mailadmin:dashboard:{kind}_total", rows.count, TOTALS_CACHE_SECONDS
            )
            summary[kind] = int(cached) if cached is not None else rows.count()
        else:
            summary[kind] = rows.count()
    return summary


def inactive_domains(*, user: User | None, limit: int = 10) -> list[Domain]:
    return list(domains_visible_to(user).filter(active=False).order_by("name")[:limit])


def hosted_domains_without_mailboxes(*, user: User | None, limit: int = 10) -> list[Domain]:
    """Hosted, active domains that accept mail but have no mailbox yet."""
    from mailboxes.models import Mailbox

    has_mailbox = Mailbox.objects.filter(domain=OuterRef("pk"))
    return list(
        domains_visible_to(user)
        .filter(delivery=Delivery.HOSTED, active=True)
        .exclude(Exists(has_mailbox))
        .order_by("name")[:limit]
    )


def search_form_of(term: str) -> str:
    """A typed fragment as it is stored: "bücher" finds xn--bcher-kva.example."""
    if term.isascii():
        return term.lower()
    try:
        return idna.encode(term.lower(), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return term.lower()


def domain_get(*, user: User | None, name: str) -> Domain:
    try:
        canonical = normalize_domain(name)
    except ValidationError:
        raise Http404("no such domain") from None
    try:
        return domains_visible_to(user).get(name=canonical)
    except Domain.DoesNotExist:
        raise Http404("no such domain") from None


def domain_get_by_pk(*, user: User | None, pk: int) -> Domain:
    try:
        return domains_visible_to(user).get(pk=pk)
    except Domain.DoesNotExist:
        raise Http404("no such domain") from None


def alias_domains_visible_to(user: User | None) -> QuerySet[AliasDomain]:
    """Alias domains whose target the user may see (both sides are checked on writes)."""
    return AliasDomain.objects.filter(target__in=domains_visible_to(user)).select_related("target")


def alias_domain_get(*, user: User | None, name: str) -> AliasDomain:
    try:
        canonical = normalize_domain(name)
    except ValidationError:
        raise Http404("no such alias domain") from None
    try:
        return alias_domains_visible_to(user).get(name=canonical)
    except AliasDomain.DoesNotExist:
        raise Http404("no such alias domain") from None


def alias_domain_list(
    *, user: User | None, target: Domain, search: str = ""
) -> QuerySet[AliasDomain]:
    """The alias domains of `target` the user may see, by name."""
    qs = alias_domains_visible_to(user).filter(target=target)
    if search:
        term = search.strip()
        qs = qs.filter(Q(name__contains=search_form_of(term)) | Q(name__contains=term.lower()))
    return qs.order_by("name")


def alias_domain_in_domain(*, user: User | None, target: Domain, pk: int) -> AliasDomain:
    try:
        return alias_domains_visible_to(user).get(target=target, pk=pk)
    except AliasDomain.DoesNotExist:
        raise Http404("no such alias domain") from None


def domain_is_visible(*, user: User | None, name: str) -> bool:
    """True when `name` (canonical) is a domain of the user's, or an alias domain of one."""
    return (
        domains_visible_to(user).filter(name=name).exists()
        or alias_domains_visible_to(user).filter(name=name).exists()
    )


def domain_get_with_counts(*, user: User | None, name: str) -> Domain:
    """domain_get, with the annotations of with_counts (one query)."""
    try:
        canonical = normalize_domain(name)
    except ValidationError:
        raise Http404("no such domain") from None
    try:
        return with_counts(domains_visible_to(user)).get(name=canonical)
    except Domain.DoesNotExist:
        raise Http404("no such domain") from None


def domain_is_known(*, name: str) -> bool:
    """True when `name` is a domain or alias domain of this server, whoever administers it."""
    return (
        Domain.objects.filter(name=name).exists() or AliasDomain.objects.filter(name=name).exists()
    )
