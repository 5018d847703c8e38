"""Brute-force protection for every login form (admins and mailbox owners).

Failures are counted in the database, so all gunicorn workers and panel hosts share them.
Three counters are kept per attempt:

- the username from this IP: locked after MAILADMIN_LOGIN_MAX_FAILURES failures;
- the username from anywhere and the IP for any username: locked after four times as many,
  which stops a slow spray across addresses or hosts without letting one stranger lock an
  admin out with a handful of tries.

A lock lasts MAILADMIN_LOGIN_LOCK_SECONDS; failures older than that are forgotten. While locked,
even the right password is refused. Each failure is also logged as one line that fail2ban can
match on logger "mailadmin.auth".
"""

from __future__ import annotations

import ipaddress
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import LoginThrottle

auth_log = logging.getLogger("mailadmin.auth")

# Spray counters (per username, per IP) allow this many times the per-pair limit.
SPRAY_FACTOR = 4
_UNSAFE_IN_LOG = re.compile(r"[^\w.@+\-]")


def max_failures() -> int:
    return int(getattr(settings, "MAILADMIN_LOGIN_MAX_FAILURES", 5))


def lock_seconds() -> int:
    return int(getattr(settings, "MAILADMIN_LOGIN_LOCK_SECONDS", 900))


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or, when that is a trusted proxy, the last
    X-Forwarded-For hop that is not one (a client can prepend anything it likes)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = set(getattr(settings, "MAILADMIN_TRUSTED_PROXIES", []))
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


def _keys(username: str, ip: str) -> list[tuple[str, int]]:
    name = username.strip().lower()[:254]
    limit = max_failures()
    return [
        (f"pair:{name}|{ip}", limit),
        (f"user:{name}", limit * SPRAY_FACTOR),
        (f"ip:{ip}", limit * SPRAY_FACTOR),
    ]


def seconds_locked(*, username: str, ip: str) -> int:
    """0 when a login may be tried now; else how many seconds until it may."""
    now = timezone.now()
    keys = [key for key, _limit in _keys(username, ip)]
    until = (
        LoginThrottle.objects.filter(key__in=keys, locked_until__gt=now)
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )
    if until is None:
        return 0
    return max(1, int((until - now).total_seconds() + 0.999))


def _row_for_update(key: str) -> LoginThrottle:
    try:
        with transaction.atomic():
            return LoginThrottle.objects.select_for_update().get_or_create(key=key)[0]
    except IntegrityError:
        # Another worker created it between our read and insert.
        return LoginThrottle.objects.select_for_update().get(key=key)


@transaction.atomic
def record_failure(*, username: str, ip: str, kind: str) -> None:
    now = timezone.now()
    window = timedelta(seconds=lock_seconds())
    for key, limit in _keys(username, ip):
        row = _row_for_update(key)
        expired_lock = row.locked_until is not None and row.locked_until <= now
        stale = row.last_failure is None or now - row.last_failure > window
        if expired_lock or stale:
            row.failures = 0
            row.locked_until = None
        row.failures += 1
        row.last_failure = now
        if row.failures >= limit:
            row.locked_until = now + window
        row.save()
    auth_log.warning(
        "authentication failure kind=%s user=%s rhost=%s",
        kind,
        _UNSAFE_IN_LOG.sub("?", username)[:254] or "-",
        ip or "-",
    )


def record_success(*, username: str, ip: str) -> None:
    """A right password clears this username's counters; the IP's counter keeps decaying."""
    keys = [key for key, _limit in _keys(username, ip) if not key.startswith("ip:")]
    LoginThrottle.objects.filter(key__in=keys).delete()
