"""The client IP of the request being served, for audit entries written deep in services."""

from __future__ import annotations

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("mailadmin_audit_ip", default=None)
