"""Checking and counting a login attempt is one step: parallel guesses cannot pass the limit.

Each thread has its own database connection, like two gunicorn workers; the threads are released
together and all verify a wrong password, which takes long enough (Argon2) for every one of them
to have checked the counter before the first failure is recorded, were the two steps apart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from accounts.models import LoginThrottle
from selfservice import services
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def race(target: Callable[[], object], n: int = THREADS) -> list[str]:
    """Run `target` in n threads released at once; the name of what each one raised."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            target()
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def owner():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer at a time; the race needs a database server")
    factories.domain("example.com")
    return factories.mailbox("john@example.com", password="Mellow-Harbour-42")


def test_parallel_wrong_guesses_get_no_more_than_the_free_failures(owner):
    outcomes = race(
        lambda: services.owner_login(
            address="john@example.com", password="wrong-password", ip="198.51.100.7"
        )
    )
    assert sorted(outcomes) == ["OwnerLoginFailed"] * 5 + ["OwnerLoginLocked"] * (THREADS - 5)


def test_parallel_guesses_from_many_networks_are_each_counted_once(owner):
    counter = iter(range(THREADS))
    outcomes = race(
        lambda: services.owner_login(
            address="john@example.com", password="wrong-password", ip=f"198.51.100.{next(counter)}"
        )
    )
    assert outcomes == ["OwnerLoginFailed"] * THREADS
    # Every failure reached the identity's counter: none was lost to a concurrent update.
    everywhere = LoginThrottle.objects.get(kind="owner", identity="john@example.com", network="")
    assert everywhere.failures == THREADS
