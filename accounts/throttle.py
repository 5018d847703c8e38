"""Brute-force protection for every login form: growing delays, never a lock on the real user.

Failures are counted in the database, so all gunicorn workers and panel hosts share them, in
three key spaces that never touch each other (LoginKind: admin login, owner login, the admin's
password-change form). Within a key space, per attempt:

- the pair (identity, client network) decides: after MAILADMIN_LOGIN_FREE_FAILURES failures the
  next attempt from that network waits MAILADMIN_LOGIN_DELAY_SECONDS, doubling with each further
  failure up to MAILADMIN_LOGIN_MAX_DELAY_SECONDS. While it waits, even the right password is not
  checked; attempts refused so are not counted (they test no password);
- the identity from every network, and the network for every identity, each count too: past
  MAILADMIN_LOGIN_CEILING failures, every pair of that identity (or network) starts waiting after
  its first failure instead. A distributed guess or a spray is slowed that way, yet a network
  without failures for an identity is never refused: the real user's right password from home
  works whatever strangers elsewhere (or behind the same NAT, for other names) have tried.

The identity is the canonical one the login resolves to (`owner_identity`, `admin_identity`), so
another spelling of an address is the same identity. A network is an IPv4 address or an IPv6 /64.
Counters are forgotten MAILADMIN_LOGIN_FORGET_SECONDS after their last failure, or after the
end of the wait it imposed, and pruned then, a bounded batch with every failure written.

Checking a pair and counting the attempt are one step: `guard` counts the attempt as a failure
under the pair row's lock *before* the password is verified, and a success takes it back. Two
workers racing can therefore never both get the last free attempt.

Each failure is logged on logger "mailadmin.auth" as one line that fail2ban can match; a refusal
while waiting is logged as "authentication throttled".
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import ngettext

from accounts.models import LoginKind, LoginThrottle
from mailadmin.names import split_address

auth_log = logging.getLogger("mailadmin.auth")

# Expired rows deleted with each failure: bounded, and more than one failure ever adds (three).
PRUNE_BATCH = 100
UNKNOWN_NETWORK = "unknown"
_UNSAFE_IN_LOG = re.compile(r"[^\w.@+\-]")
_MAX_IDENTITY = 254


class Throttled(Exception):
    """This identity must wait `seconds` before its next attempt from this network."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def free_failures() -> int:
    return max(1, settings.MAILADMIN_LOGIN_FREE_FAILURES)


def first_delay() -> int:
    return settings.MAILADMIN_LOGIN_DELAY_SECONDS


def max_delay() -> int:
    return settings.MAILADMIN_LOGIN_MAX_DELAY_SECONDS


def ceiling() -> int:
    return settings.MAILADMIN_LOGIN_CEILING


def forget_after() -> timedelta:
    return timedelta(seconds=settings.MAILADMIN_LOGIN_FORGET_SECONDS)


def delay_after(failures: int, *, free: int) -> int:
    """Seconds to wait after `failures` failures of a pair that has `free` free ones."""
    if failures < free:
        return 0
    doublings = min(failures - free, 32)  # 2**32 minutes is past any cap
    return min(max_delay(), first_delay() * 2**doublings)


# --- who and where -----------------------------------------------------------------------------


def network_of(ip: str) -> str:
    """The client network counted: an IPv4 address, or the /64 of an IPv6 address (one
    subscriber usually holds a whole /64, and would otherwise get 2**64 fresh counters)."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return UNKNOWN_NETWORK
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def parse_network(text: str) -> str:
    """An address or a network as typed by the operator, in the form `network_of` gives."""
    if "/" not in text:
        network = network_of(text)
        if network == UNKNOWN_NETWORK:
            raise ValueError(f"not an IP address or network: {text}")
        return network
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"not an IP address or network: {text}") from None
    return network_of(str(net.network_address))


def _fallback_identity(text: str) -> str:
    # Nothing logs in under this name, so any stable form will do; casefolded, few keys.
    return text.strip().casefold()[:_MAX_IDENTITY] or "-"


def owner_identity(address: str) -> str:
    """The address the owner login resolves `address` to (split_address's canonical form:
    case, spaces around the @, a trailing dot, IDNA mapping of the domain)."""
    try:
        local_part, domain = split_address(address)
    except ValidationError:
        return _fallback_identity(address)
    return f"{local_part}@{domain}"


def admin_identity(username: str) -> str:
    """The username of the user the admin login resolves `username` to: NFKC as the login form
    normalises it, then the database's own comparison (a case-insensitive collation on MariaDB
    finds "Carol" for "carol")."""
    name = unicodedata.normalize("NFKC", username).strip()
    user_model = get_user_model()
    try:
        user = user_model._default_manager.get_by_natural_key(name)
    except (user_model.DoesNotExist, user_model.MultipleObjectsReturned):
        return _fallback_identity(name)
    return str(user.get_username())


# --- the check, the count, the log -------------------------------------------------------------


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _free_for(kind: str, identity: str, network: str, now: datetime) -> int:
    """FREE_FAILURES, or 1 while the identity or the network is past the ceiling."""
    crowded = LoginThrottle.objects.filter(
        Q(identity=identity, network="") | Q(identity="", network=network),
        kind=kind,
        failures__gte=ceiling(),
        expires_at__gte=now,
    ).exists()
    return 1 if crowded else free_failures()


def _claim(kind: str, identity: str, network: str) -> int:
    """Count an attempt of the pair as a failure in advance, under the pair row's lock; 0 then,
    else the seconds the pair must still wait (and nothing is counted)."""
    pair = LoginThrottle.objects.filter(kind=kind, identity=identity, network=network)
    for _ in range(3):
        with transaction.atomic():
            row = pair.select_for_update().first()
            if row is not None:
                now = timezone.now()
                if row.blocked_until is not None and row.blocked_until > now:
                    return _seconds_until(row.blocked_until, now)
                if row.last_failure is None or row.expires_at < now:
                    row.failures = 0
                row.failures += 1
                row.last_failure = now
                wait = delay_after(row.failures, free=_free_for(kind, identity, network, now))
                row.blocked_until = now + timedelta(seconds=wait) if wait else None
                # Remembered from the end of the wait: a wait longer than the memory (settings
                # so chosen) must not wipe the count it is part of.
                row.expires_at = (row.blocked_until or now) + forget_after()
                row.save(update_fields=["failures", "last_failure", "blocked_until", "expires_at"])
                return 0
        # No row yet: insert it on its own (ON CONFLICT DO NOTHING / INSERT IGNORE, a no-op when
        # another worker was first), then lock it like any other. Inserting outside the locking
        # transaction keeps InnoDB from holding a shared lock it would have to upgrade.
        _ensure(kind, identity, network)
    raise RuntimeError("the throttle row vanished three times")  # pruned thrice: not in practice


def _ensure(kind: str, identity: str, network: str) -> None:
    LoginThrottle.objects.bulk_create(
        [
            LoginThrottle(
                kind=kind,
                identity=identity,
                network=network,
                expires_at=timezone.now() + forget_after(),
            )
        ],
        ignore_conflicts=True,
    )


def _count_everywhere(kind: str, identity: str, network: str) -> None:
    """One more failure for the identity from every network and for the network: a single
    UPDATE each, so concurrent failures all add up."""
    now = timezone.now()
    stale = Q(last_failure__isnull=True) | Q(expires_at__lt=now)
    for key in ({"identity": identity, "network": ""}, {"identity": "", "network": network}):
        counter = LoginThrottle.objects.filter(kind=kind, **key)
        changes = {
            "failures": Case(When(stale, then=Value(1)), default=F("failures") + 1),
            "last_failure": now,
            "expires_at": now + forget_after(),
        }
        if not counter.update(**changes):
            _ensure(kind, key["identity"], key["network"])
            counter.update(**changes)


def _log(event: str, kind: str, identity: str, ip: str, extra: str = "") -> None:
    auth_log.warning(
        "authentication %s kind=%s user=%s rhost=%s%s",
        event,
        kind,
        _UNSAFE_IN_LOG.sub("?", identity)[:_MAX_IDENTITY] or "-",
        ip or "-",
        extra,
    )


class Attempt:
    def __init__(self) -> None:
        self.ok = False

    def succeeded(self) -> None:
        """The password was right (and the login is allowed): the attempt is not a failure."""
        self.ok = True


@contextmanager
def guard(*, kind: str, identity: str, ip: str) -> Iterator[Attempt]:
    """Check a password under the throttle: raises Throttled while the pair must wait, else
    counts the attempt as a failure unless the block calls `attempt.succeeded()`.

    `identity` is canonical (owner_identity, admin_identity); `kind` a LoginKind. An exception in
    the block counts as a failure too: the attempt was counted before the password was checked.
    """
    network = network_of(ip)
    identity = identity[:_MAX_IDENTITY] or "-"
    wait = _claim(kind, identity, network)
    if wait:
        _log("throttled", kind, identity, ip, f" wait={wait}")
        raise Throttled(wait)
    attempt = Attempt()
    try:
        yield attempt
    finally:
        if attempt.ok:
            # The right password clears this network's count for the identity; the identity's
            # and the network's counters keep decaying, so a success cannot reset an attack.
            LoginThrottle.objects.filter(kind=kind, identity=identity, network=network).delete()
        else:
            _count_everywhere(kind, identity, network)
            _log("failure", kind, identity, ip)
            prune()


def seconds_to_wait(*, kind: str, identity: str, ip: str) -> int:
    """0 when the pair may try now, else how many seconds it must wait (counts nothing)."""
    now = timezone.now()
    until = (
        LoginThrottle.objects.filter(
            kind=kind, identity=identity, network=network_of(ip), blocked_until__gt=now
        )
        .values_list("blocked_until", flat=True)
        .first()
    )
    return 0 if until is None else _seconds_until(until, now)


def prune(*, limit: int = PRUNE_BATCH) -> int:
    """Delete up to `limit` forgotten counters; how many went."""
    expired = LoginThrottle.objects.filter(expires_at__lt=timezone.now())
    ids = list(expired.values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    return LoginThrottle.objects.filter(pk__in=ids, expires_at__lt=timezone.now()).delete()[0]


def identities_for(text: str, kind: str | None = None) -> set[str]:
    """The canonical identities `text` names in `kind` (or in every kind), for lifting."""
    kinds = [kind] if kind else list(LoginKind.values)
    return {owner_identity(text) if k == LoginKind.OWNER else admin_identity(text) for k in kinds}


def wait_message(seconds: int) -> str:
    """What a delayed login page says: when to try again, in whole minutes rounded up."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed logins. Try again in %(n)d minute.",
        "Too many failed logins. Try again in %(n)d minutes.",
        minutes,
    ) % {"n": minutes}
