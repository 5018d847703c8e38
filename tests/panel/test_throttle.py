"""accounts.throttle: growing delays per identity and client network, shared by every login form."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts import throttle
from accounts.models import LoginThrottle
from mailadmin.client_ip import client_ip

pytestmark = pytest.mark.django_db

ADMIN, OWNER, PASSWORD_FORM = "admin", "owner", "admin-password"
DAY = 86400


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """timezone.now() under the test's control."""
    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def fail(identity: str, ip: str, times: int = 1, kind: str = ADMIN) -> None:
    for _ in range(times):
        with throttle.guard(kind=kind, identity=identity, ip=ip):
            pass  # the password was wrong: no succeeded()


def fail_waiting(clock: Clock, identity: str, ip: str, times: int, kind: str = ADMIN) -> None:
    """`times` failures, each after the wait the previous ones imposed."""
    for _ in range(times):
        clock.advance(wait(identity, ip, kind))
        fail(identity, ip, kind=kind)


def succeed(identity: str, ip: str, kind: str = ADMIN) -> None:
    with throttle.guard(kind=kind, identity=identity, ip=ip) as attempt:
        attempt.succeeded()


def wait(identity: str, ip: str, kind: str = ADMIN) -> int:
    return throttle.seconds_to_wait(kind=kind, identity=identity, ip=ip)


def test_free_failures_then_delays_that_double_up_to_the_cap(clock):
    for _ in range(4):
        fail("bob", "203.0.113.9")
        assert wait("bob", "203.0.113.9") == 0
    for expected in (60, 120, 240, 480, 900, 900):
        fail("bob", "203.0.113.9")
        assert wait("bob", "203.0.113.9") == expected
        with pytest.raises(throttle.Throttled) as exc:
            succeed("bob", "203.0.113.9")  # even the right password waits
        assert exc.value.seconds == expected
        clock.advance(expected)
        assert wait("bob", "203.0.113.9") == 0


def test_attempts_refused_while_waiting_are_not_counted(clock):
    fail("bob", "203.0.113.9", 5)
    for _ in range(10):
        with pytest.raises(throttle.Throttled):
            fail("bob", "203.0.113.9")
    clock.advance(60)
    fail("bob", "203.0.113.9")
    assert wait("bob", "203.0.113.9") == 120


def test_only_the_failing_network_waits(clock):
    fail_waiting(clock, "bob", "203.0.113.9", 9)
    assert wait("bob", "203.0.113.9") == 900
    assert wait("bob", "203.0.113.10") == 0
    succeed("bob", "203.0.113.10")


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("", "unknown"),
        ("not-an-address", "unknown"),
    ],
)
def test_ipv6_is_counted_by_its_64_prefix_and_ipv4_by_address(ip, network):
    assert throttle.network_of(ip) == network


def test_one_ipv6_64_is_one_network(clock):
    for i in range(5):
        fail("bob", f"2001:db8:1:2::{i + 1}")
    assert wait("bob", "2001:db8:1:2::abcd") == 60
    assert wait("bob", "2001:db8:1:3::1") == 0


def test_admin_owner_and_password_form_failures_are_separate_key_spaces(clock):
    fail("carol@example.com", "203.0.113.9", 5, kind=OWNER)
    fail("carol@example.com", "203.0.113.9", 5, kind=PASSWORD_FORM)
    assert wait("carol@example.com", "203.0.113.9", kind=OWNER) == 60
    assert wait("carol@example.com", "203.0.113.9", kind=PASSWORD_FORM) == 60
    assert wait("carol@example.com", "203.0.113.9", kind=ADMIN) == 0


def test_the_identity_ceiling_slows_every_network_without_refusing_a_clean_one(settings, clock):
    settings.MAILADMIN_LOGIN_CEILING = 10
    for i in range(10):
        fail("bob", f"198.51.100.{i}")  # a distributed guess: one per network
    # A network without failures is never refused: the right password logs in ...
    assert wait("bob", "192.0.2.1") == 0
    succeed("bob", "192.0.2.1")
    # ... but past the ceiling every network waits after its first failure, not its fifth.
    fail("bob", "192.0.2.2")
    assert wait("bob", "192.0.2.2") == 60
    assert wait("carol", "192.0.2.2") == 0


def test_the_network_ceiling_slows_a_spray_without_refusing_a_clean_identity(settings, clock):
    settings.MAILADMIN_LOGIN_CEILING = 10
    for i in range(10):
        fail(f"user{i}", "203.0.113.50")
    assert wait("carol", "203.0.113.50") == 0
    fail("dave", "203.0.113.50")
    assert wait("dave", "203.0.113.50") == 60
    # Another network spraying nothing is not slowed.
    fail("dave", "203.0.113.51")
    assert wait("dave", "203.0.113.51") == 0


def test_success_clears_the_pair_not_the_ceiling_counters(clock):
    fail("bob", "203.0.113.9", 4)
    succeed("bob", "203.0.113.9")
    rows = {(row.identity, row.network): row.failures for row in LoginThrottle.objects.all()}
    assert rows == {("bob", ""): 4, ("", "203.0.113.9"): 4}
    fail("bob", "203.0.113.9", 4)
    assert wait("bob", "203.0.113.9") == 0


def test_failures_are_forgotten_a_quiet_day_after_the_last_wait(clock):
    fail_waiting(clock, "bob", "203.0.113.9", 9)
    clock.advance(900 + DAY - 1)
    clock.advance(wait("bob", "203.0.113.9"))
    fail("bob", "203.0.113.9")
    assert wait("bob", "203.0.113.9") == 900  # not yet forgotten: the tenth failure
    clock.advance(900 + DAY + 1)
    assert wait("bob", "203.0.113.9") == 0
    fail("bob", "203.0.113.9", 4)
    assert wait("bob", "203.0.113.9") == 0
    fail("bob", "203.0.113.9")
    assert wait("bob", "203.0.113.9") == 60


def test_expired_counters_are_pruned_when_failures_are_written(clock):
    for i in range(30):
        Client(REMOTE_ADDR=f"203.0.113.{i}").post(
            "/accounts/login/", {"username": f"gone{i}", "password": "wrong"}
        )
    assert LoginThrottle.objects.count() >= 30
    clock.advance(2 * DAY + 1)
    Client(REMOTE_ADDR="198.51.100.1").post(
        "/accounts/login/", {"username": "fresh", "password": "wrong"}
    )
    # Only the counters of the last attempt are left: its pair, its identity, its network.
    assert LoginThrottle.objects.count() == 3


def test_pruning_is_bounded_per_write(clock):
    past = clock.now - timedelta(seconds=1)
    LoginThrottle.objects.bulk_create(
        LoginThrottle(kind=ADMIN, identity=f"old{i}", network="", expires_at=past)
        for i in range(throttle.PRUNE_BATCH + 50)
    )
    fail("bob", "203.0.113.9")
    assert LoginThrottle.objects.filter(expires_at__lt=clock.now).count() == 50
    assert throttle.prune() == 50
    assert LoginThrottle.objects.count() == 3


def test_a_counter_that_must_wait_lives_until_its_wait_ends(settings, clock):
    settings.MAILADMIN_LOGIN_FORGET_SECONDS = 100  # shorter than the cap
    fail_waiting(clock, "bob", "203.0.113.9", 9)
    clock.advance(101)
    throttle.prune()
    assert wait("bob", "203.0.113.9") == 799


def test_failure_is_logged_for_fail2ban_without_injection(caplog):
    with caplog.at_level(logging.WARNING, logger="mailadmin.auth"):
        fail("bob@example.com\nfake line", "203.0.113.9", kind=OWNER)
    assert (
        "authentication failure kind=owner user=bob@example.com?fake?line rhost=203.0.113.9"
        in caplog.text
    )


def test_a_refused_attempt_is_logged_with_its_wait(caplog, clock):
    fail("bob", "2001:db8::7", 5)
    with (
        caplog.at_level(logging.WARNING, logger="mailadmin.auth"),
        pytest.raises(throttle.Throttled),
    ):
        fail("bob", "2001:db8::7")
    assert "authentication throttled kind=admin user=bob rhost=2001:db8::7 wait=60" in caplog.text


@pytest.mark.parametrize(
    "spelling",
    [
        "john@example.com",
        "John@Example.COM.",
        " john @ example.com ",
        "john@exam\u00adple.com",
        "john@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
    ],
)
def test_owner_identity_is_the_address_the_login_resolves_to(spelling):
    assert throttle.owner_identity(spelling) == "john@example.com"


def test_owner_identity_of_something_that_is_no_address():
    assert throttle.owner_identity("  Not An Address ") == "not an address"


def test_admin_identity_is_the_username_the_login_resolves_to(db):
    get_user_model().objects.create_user(username="carol", password="x" * 20)
    assert throttle.admin_identity("\uff43\uff41\uff52\uff4f\uff4c") == "carol"
    assert throttle.admin_identity("carol") == "carol"
    assert throttle.admin_identity("nobody") == "nobody"


def test_client_ip_trusts_forwarded_for_only_from_a_trusted_proxy(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert client_ip(request) == "10.0.0.5"
    settings.MAILADMIN_TRUSTED_PROXIES = ["10.0.0.5"]
    # The client may have prepended 1.2.3.4 itself; the last hop before our proxy counts.
    assert client_ip(request) == "203.0.113.9"
    request = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="garbage")
    assert client_ip(request) == "10.0.0.5"
