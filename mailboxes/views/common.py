"""Small helpers the per-domain views share."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest

from domains.models import Domain, DomainUsage
from domains.selectors import domain_get
from mailadmin.search import SEARCH_MAX


def search_term(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:SEARCH_MAX]


def domain_from_url(request: HttpRequest, name: str) -> Domain:
    """The URL's domain if the user may see it; a 404 otherwise."""
    return domain_get(user=request.user, name=name)


def flash(request: HttpRequest, text: str) -> None:
    messages.success(request, text)


# ?status= of the mailbox and alias lists: "" (all), or one of these.
STATUSES = {"active": True, "disabled": False}


def status_filter(request: HttpRequest) -> tuple[str, bool | None]:
    """The list's status filter as given ("" when none or unknown) and as a filter value."""
    status = request.GET.get("status", "")
    return (status, STATUSES[status]) if status in STATUSES else ("", None)


def totals(domain: Domain) -> DomainUsage:
    """The domain's counters (kept by triggers, one primary-key read): the totals a list's
    page shows above it, against the domain's limits."""
    return DomainUsage.objects.filter(domain_id=domain.pk).first() or DomainUsage()
