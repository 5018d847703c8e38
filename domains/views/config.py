from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import record
from domains import mailstack
from mailadmin.access import superadmin_required
from mailadmin.rendering import actor, render_page


@superadmin_required
@require_http_methods(["GET", "POST"])
def config(request: HttpRequest) -> HttpResponse:
    """Each exported file; the roles' credentials appear only after a POST that asks for them
    (and is audited)."""
    reveal = request.method == "POST" and request.POST.get("reveal") == "1"
    target = mailstack.panel_target()
    if reveal:
        record(
            actor=actor(request),
            action="reveal",
            obj=None,
            domain=None,
            changes={"what": "mail-stack credentials"},
        )
    context = {
        "files": mailstack.config_files(reveal=reveal, target=target),
        "revealed": reveal,
        "postconf": mailstack.postconf_commands(target),
        "paths": mailstack.install_paths(target),
        "dialect": target.dialect,
    }
    response = render_page(request, "domains/config.html", "domains/_config_files.html", context)
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
    response = HttpResponse(mailstack.archive(), content_type="application/gzip")
    response["Content-Disposition"] = 'attachment; filename="mailadmin-config.tar.gz"'
    add_never_cache_headers(response)
    return response
