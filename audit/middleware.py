"""Makes the client IP known to audit.services.record for the length of one request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.context import current_ip
from mailadmin.client_ip import client_ip


class RequestIPMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request) or None)
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
