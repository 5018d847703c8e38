"""The mail-stack config page: every exported file, the install steps and the download of the
whole set, for superadmins. Showing or downloading the roles' credentials is recorded in the
audit log (audit.services, the one import of an app above the contract)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import record
from mailadmin.access import superadmin_required
from mailadmin.contract import config_page
from mailadmin.rendering import actor, render_page

TEMPLATE = "contract/config.html"


@superadmin_required
@require_http_methods(["GET", "POST"])
def config(request: HttpRequest) -> HttpResponse:
    """Each exported file; the roles' credentials appear only after a POST that asks for them
    (and is audited). htmx gets the files part of the page only."""
    reveal = request.method == "POST" and request.POST.get("reveal") == "1"
    target = config_page.panel_target()
    if reveal:
        record(
            actor=actor(request),
            action="reveal",
            obj=None,
            domain=None,
            changes={"what": "mail-stack credentials"},
        )
    context = {
        "files": config_page.config_files(reveal=reveal, target=target),
        "revealed": reveal,
        "postconf": config_page.postconf_commands(target),
        "paths": config_page.install_paths(target),
        "dialect": target.dialect,
    }
    response = render_page(request, TEMPLATE, context, partial="files")
    add_never_cache_headers(response)
    return response


@superadmin_required
@require_POST
def config_download(request: HttpRequest) -> HttpResponse:
    """The whole set, credentials included, as mailadmin-config.tar.gz."""
    record(
        actor=actor(request),
        action="download",
        obj=None,
        domain=None,
        changes={"what": "mail-stack config"},
    )
    response = HttpResponse(config_page.archive(), content_type="application/gzip")
    response["Content-Disposition"] = 'attachment; filename="mailadmin-config.tar.gz"'
    add_never_cache_headers(response)
    return response
