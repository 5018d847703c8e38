"""The owner's filter and vacation pages under /me/: the mailbox of their session only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mailboxes.models import Mailbox
from selfservice.session import owner_required
from sieve.views import pages
from sieve.views.editor import owner_editor


@never_cache
@require_http_methods(["GET", "POST"])
@owner_required
def vacation(request: HttpRequest, owner: Mailbox) -> HttpResponse:
    return pages.vacation(request, owner_editor(owner))


@never_cache
@require_GET
@owner_required
def filters(request: HttpRequest, owner: Mailbox) -> HttpResponse:
    return pages.filters(request, owner_editor(owner))


@never_cache
@require_POST
@owner_required
def spam(request: HttpRequest, owner: Mailbox) -> HttpResponse:
    return pages.spam(request, owner_editor(owner))


@never_cache
@require_http_methods(["GET", "POST"])
@owner_required
def rule_new(request: HttpRequest, owner: Mailbox) -> HttpResponse:
    return pages.rule_form(request, owner_editor(owner))


@never_cache
@require_http_methods(["GET", "POST"])
@owner_required
def rule_edit(request: HttpRequest, owner: Mailbox, rule: int) -> HttpResponse:
    return pages.rule_form(request, owner_editor(owner), rule)


@never_cache
@require_http_methods(["GET", "POST"])
@owner_required
def rule_delete(request: HttpRequest, owner: Mailbox, rule: int) -> HttpResponse:
    return pages.rule_delete(request, owner_editor(owner), rule)


@never_cache
@require_POST
@owner_required
def rule_move(request: HttpRequest, owner: Mailbox, rule: int) -> HttpResponse:
    return pages.rule_move(request, owner_editor(owner), rule)
