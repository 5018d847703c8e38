"""The address a request came from, as the throttle, the audit log and the login pages see it."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or, when that is a trusted proxy, the last
    X-Forwarded-For hop that is not one (a client can prepend anything it likes)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = set(settings.MAILADMIN_TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop in trusted:
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            break
    return remote
