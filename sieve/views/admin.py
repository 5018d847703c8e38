"""A mailbox's filter and vacation pages in the admin panel, under its domain's pages.

The domain and the mailbox are found through the selectors like on every admin page: a
superadmin reaches every mailbox, a domain admin those of their domains; anything else is a
404. The services check the admin's scope again when they write.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains.selectors import domain_get
from mailadmin.access import panel_admin_required
from mailadmin.rendering import actor
from mailboxes.selectors import mailbox_in_domain
from sieve.views import pages
from sieve.views.editor import Editor, admin_editor


def _editor(request: HttpRequest, domain: str, pk: int) -> Editor:
    the_domain = domain_get(user=request.user, name=domain)
    mailbox = mailbox_in_domain(user=request.user, domain=the_domain, pk=pk)
    return admin_editor(actor(request), the_domain, mailbox)


@panel_admin_required
@require_http_methods(["GET", "POST"])
def vacation(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    return pages.vacation(request, _editor(request, domain, pk))


@panel_admin_required
@require_GET
def filters(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    return pages.filters(request, _editor(request, domain, pk))


@panel_admin_required
@require_POST
def spam(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    return pages.spam(request, _editor(request, domain, pk))


@panel_admin_required
@require_http_methods(["GET", "POST"])
def rule_new(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    return pages.rule_form(request, _editor(request, domain, pk))


@panel_admin_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, domain: str, pk: int, rule: int) -> HttpResponse:
    return pages.rule_form(request, _editor(request, domain, pk), rule)


@panel_admin_required
@require_http_methods(["GET", "POST"])
def rule_delete(request: HttpRequest, domain: str, pk: int, rule: int) -> HttpResponse:
    return pages.rule_delete(request, _editor(request, domain, pk), rule)


@panel_admin_required
@require_POST
def rule_move(request: HttpRequest, domain: str, pk: int, rule: int) -> HttpResponse:
    return pages.rule_move(request, _editor(request, domain, pk), rule)
