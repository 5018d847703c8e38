"""Reads of domains, scoped to what the asking user may see.

Every view and command asks here: a superuser sees every domain, a domain admin only the
domains granted to them, anyone else nothing. An object outside the scope is a 404.
"""

from __future__ import annotations

import idna
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from domains import usage_triggers
from domains.models import (
    AliasDomain,
    AliasDomainGrant,
    Delivery,
    Domain,
    RelayRecipient,
)
from mailadmin.access import User, is_superadmin
from mailadmin.contract import usage_table
from mailadmin.names import normalize_domain
from mailadmin.search import contains_text


def domains_visible_to(user: User | None) -> QuerySet[Domain]:
    """Domains `user` may see; None is the system itself (CLI run by the operator)."""
    if user is None or is_superadmin(user):
        return Domain.objects.all()
    if not user.is_authenticated or not getattr(user, "is_active", False):
        return Domain.objects.none()
    return Domain.objects.filter(admins__pk=user.pk)


def with_counts(qs: QuerySet[Domain]) -> QuerySet[Domain]:
    """Annotate mailbox_count, alias_count, quota_allocated (the trigger-kept DomainUsage row,
    one primary-key join whatever the domain's size) and alias_domain_count."""
    alias_domains = Subquery(
        AliasDomain.objects.filter(target=OuterRef("pk"))
        .order_by()
        .values("target")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=models.IntegerField(),
    )
    return qs.annotate(
        mailbox_count=Coalesce(F("usage__mailboxes"), 0),
        alias_count=Coalesce(F("usage__aliases"), 0),
        alias_domain_count=Coalesce(alias_domains, 0),
        quota_allocated=Coalesce(
            F("usage__quota_allocated"), Value(0), output_field=models.BigIntegerField()
        ),
    )


def usage_drift() -> list[str]:
    """Domains whose DomainUsage row is missing or differs from counting their rows now.

    Empty while the triggers of domains/usage_triggers.py hold; `manage.py domain check-usage`
    and the test suite (after every test that touches the database) ask it. It reads every
    mailbox: an operator's check, not a page's query. In SQL, next to the triggers, because the
    rows it counts belong to the mailboxes app above this one."""
    with connection.cursor() as cursor:
        cursor.execute(usage_triggers.DRIFT)
        return [name for (name,) in cursor.fetchall()]


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
        # UPPER(col) LIKE: the expressions of the trigram indexes (domains 0005), so
        # PostgreSQL ORs index scans instead of reading every domain.
        qs = qs.filter(
            contains_text("name", search_form_of(term))
            | contains_text("name", term)
            | contains_text("description", term)
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


def domains_with_use(pks: list[object]) -> list[Domain]:
    """domains_with_counts, each with `used_bytes` too (used_bytes_of: a second query)."""
    domains = list(domains_with_counts(pks))
    used = used_bytes_of([domain.pk for domain in domains])
    for domain in domains:
        domain.used_bytes = used.get(domain.pk)  # type: ignore[attr-defined]
    return domains


def used_bytes_of(pks: list[int]) -> dict[int, int]:
    """The bytes Dovecot last reported for the mailboxes of each of these domains, by domain
    id; a domain none of whose mailboxes has been reported yet is missing.

    One index-only range of quota_usage_by_domain (domain_id, bytes) per domain: the page's
    domains only, never all of them (20 ms for the 100,000-mailbox domain at a million). In
    SQL, as usage_drift is: the table belongs to the contract and its rows to the mailboxes
    app above this one."""
    if not pks:
        return {}
    marks = ", ".join(["%s"] * len(pks))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT domain_id, SUM(bytes) FROM {usage_table.TABLE}"  # noqa: S608 - constants
            f" WHERE domain_id IN ({marks}) GROUP BY domain_id",
            [int(pk) for pk in pks],
        )
        return {int(domain_id): int(total) for domain_id, total in cursor.fetchall()}


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


def inactive_domains(*, user: User | None, limit: int = 10) -> list[Domain]:
    return list(domains_visible_to(user).filter(active=False).order_by("name")[:limit])


def hosted_domains_without_mailboxes(*, user: User | None, limit: int = 10) -> list[Domain]:
    """Hosted, active domains that accept mail but have no mailbox yet, newest first.

    Newest first, by the usage row's domain_id: PostgreSQL then walks the partial index of
    empty domains (a few hundred relay and backup-MX domains at most) backwards, 0.2 ms at
    a million mailboxes. Sorted by name it walked all 19,800 domains by name probing that
    index for each, 13-20 ms, because it cannot know that the empty ones are not hosted."""
    return list(
        domains_visible_to(user)
        .filter(delivery=Delivery.HOSTED, active=True, usage__mailboxes=0)
        .order_by("-usage__domain_id")[:limit]
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


def alias_domain_grants(*, user: User | None, domain: Domain) -> QuerySet[AliasDomainGrant]:
    """The names a superadmin allowed for `domain` (a domain the user may see), each with
    `in_use`: already added as an alias domain."""
    in_use = AliasDomain.objects.filter(name=OuterRef("name"))
    return (
        AliasDomainGrant.objects.filter(domain__in=domains_visible_to(user), domain=domain)
        .annotate(in_use=Exists(in_use))
        .order_by("name")
    )


def alias_domain_grant_get(*, user: User | None, domain: Domain, pk: int) -> AliasDomainGrant:
    try:
        return alias_domain_grants(user=user, domain=domain).select_related("domain").get(pk=pk)
    except AliasDomainGrant.DoesNotExist:
        raise Http404("no such grant") from None


def alias_domain_grants_all() -> list[tuple[str, str, bool]]:
    """(name, domain, added as an alias domain) of every grant, by name (the operator's CLI)."""
    in_use = AliasDomain.objects.filter(name=OuterRef("name"))
    rows = (
        AliasDomainGrant.objects.annotate(in_use=Exists(in_use))
        .order_by("name")
        .values_list("name", "domain__name", "in_use")
    )
    return list(rows)


def alias_domain_grant_by_name(*, user: User | None, name: str) -> AliasDomainGrant:
    try:
        canonical = normalize_domain(name)
    except ValidationError:
        raise Http404("no such grant") from None
    try:
        return (
            AliasDomainGrant.objects.select_related("domain")
            .filter(domain__in=domains_visible_to(user))
            .get(name=canonical)
        )
    except AliasDomainGrant.DoesNotExist:
        raise Http404("no such grant") from None


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


def domain_get_with_use(*, user: User | None, name: str) -> Domain:
    """domain_get_with_counts, with `used_bytes` as domains_with_use gives it (two queries)."""
    domain = domain_get_with_counts(user=user, name=name)
    domain.used_bytes = used_bytes_of([domain.pk]).get(domain.pk)  # type: ignore[attr-defined]
    return domain


def relay_recipient_list(
    *, user: User | None, domain: Domain, search: str = ""
) -> QuerySet[RelayRecipient]:
    """The relay recipients of `domain` (a domain the user may see), by local part; the
    unique (domain, local_part) index serves the filter and the order."""
    qs = RelayRecipient.objects.filter(domain__in=domains_visible_to(user), domain=domain)
    term = search.strip().lower()
    if term:
        qs = qs.filter(local_part__contains=term.split("@", 1)[0])
    return qs.order_by("local_part")


def relay_recipient_get(*, user: User | None, domain: Domain, pk: int) -> RelayRecipient:
    try:
        return relay_recipient_list(user=user, domain=domain).select_related("domain").get(pk=pk)
    except RelayRecipient.DoesNotExist:
        raise Http404("no such relay recipient") from None


def relay_recipient_by_local_part(
    *, user: User | None, domain: Domain, local_part: str
) -> RelayRecipient:
    try:
        return (
            relay_recipient_list(user=user, domain=domain)
            .select_related("domain")
            .get(local_part=local_part.strip().lower())
        )
    except RelayRecipient.DoesNotExist:
        raise Http404("no such relay recipient") from None
