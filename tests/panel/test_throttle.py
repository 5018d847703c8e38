"""accounts.throttle: DB-backed counters shared by every login form."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from accounts import throttle
from accounts.models import LoginThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.MAILADMIN_LOGIN_MAX_FAILURES = 3
    settings.MAILADMIN_LOGIN_LOCK_SECONDS = 600


def fail(username: str, ip: str, times: int = 1, kind: str = "admin") -> None:
    for _ in range(times):
        throttle.record_failure(username=username, ip=ip, kind=kind)


def test_locks_the_pair_after_the_limit():
    fail("bob", "203.0.113.9", 2)
    assert throttle.seconds_locked(username="bob", ip="203.0.113.9") == 0
    fail("bob", "203.0.113.9")
    locked = throttle.seconds_locked(username="bob", ip="203.0.113.9")
    assert 590 < locked <= 600
    # The same user from another address is not locked by one address's few tries.
    assert throttle.seconds_locked(username="bob", ip="198.51.100.1") == 0


def test_username_is_case_insensitive():
    fail("Bob", "203.0.113.9", 3)
    assert throttle.seconds_locked(username="bob", ip="203.0.113.9") > 0


def test_spraying_many_users_from_one_ip_locks_the_ip():
    for i in range(12):
        fail(f"user{i}", "203.0.113.9")
    assert throttle.seconds_locked(username="someone-else", ip="203.0.113.9") > 0
    assert throttle.seconds_locked(username="someone-else", ip="198.51.100.1") == 0


def test_many_ips_against_one_user_lock_the_user():
    for i in range(12):
        fail("bob", f"203.0.113.{i}")
    assert throttle.seconds_locked(username="bob", ip="198.51.100.1") > 0


def test_old_failures_are_forgotten():
    fail("bob", "203.0.113.9", 2)
    LoginThrottle.objects.update(last_failure=timezone.now() - timedelta(seconds=601))
    fail("bob", "203.0.113.9")
    assert throttle.seconds_locked(username="bob", ip="203.0.113.9") == 0


def test_lock_expires():
    fail("bob", "203.0.113.9", 3)
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    assert throttle.seconds_locked(username="bob", ip="203.0.113.9") == 0
    fail("bob", "203.0.113.9")
    assert throttle.seconds_locked(username="bob", ip="203.0.113.9") == 0


def test_success_clears_the_users_counters_not_the_ips():
    fail("bob", "203.0.113.9", 2)
    throttle.record_success(username="bob", ip="203.0.113.9")
    assert set(LoginThrottle.objects.values_list("key", flat=True)) == {"ip:203.0.113.9"}


def test_failure_is_logged_for_fail2ban_without_injection(caplog):
    with caplog.at_level(logging.WARNING, logger="mailadmin.auth"):
        fail("bob@example.com\nfake line", "203.0.113.9", kind="owner")
    assert (
        "authentication failure kind=owner user=bob@example.com?fake?line rhost=203.0.113.9"
        in caplog.text
    )


def test_client_ip_trusts_forwarded_for_only_from_a_trusted_proxy(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert throttle.client_ip(request) == "10.0.0.5"
    settings.MAILADMIN_TRUSTED_PROXIES = ["10.0.0.5"]
    # The client may have prepended 1.2.3.4 itself; the last hop before our proxy counts.
    assert throttle.client_ip(request) == "203.0.113.9"
    request = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="garbage")
    assert throttle.client_ip(request) == "10.0.0.5"
