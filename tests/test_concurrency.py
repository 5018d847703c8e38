"""Two requests racing to create the same thing leave exactly one row."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from domains.models import Domain
from mailboxes import services as ms
from mailboxes.models import Alias, Mailbox
from tests import factories as f


def race(target, n=2):
    """Run `target` in n threads released at the same moment; return results and errors."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(target())
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_mailbox_creates_leave_one_row():
    f.domain()
    results, errors = race(
        lambda: ms.mailbox_create(actor=None, address="same@example.com", password=f.PASSWORD)
    )
    assert Mailbox.objects.filter(local_part="same").count() == 1
    assert len(results) == 1 and len(errors) == 1
    assert "already exists" in str(errors[0])


@pytest.mark.django_db(transaction=True)
def test_concurrent_domain_creates_leave_one_row():
    results, errors = race(lambda: f.domain("race.example"), n=3)
    assert Domain.objects.filter(name="race.example").count() == 1
    assert len(results) == 1 and len(errors) == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_cannot_pass_the_limit_together():
    f.domain(max_aliases=1)
    counter = iter(range(100))
    results, errors = race(
        lambda: ms.alias_create(
            actor=None, address=f"a{next(counter)}@example.com", destinations=["x@e.example"]
        ),
        n=4,
    )
    assert Alias.objects.count() == 1
    assert len(results) == 1 and len(errors) == 3
