"""Mailboxes with aliases and an alias domain, the three admin personas, and Pigeonhole.

- a.example: alice and bob; sales@ lists both, the catch-all goes to alice; alias-a.example
  mirrors the domain. b.example: carol.
- `admin_a` administers a.example only, `admin_b` b.example only; `superadmin` everything.
  An owner is actor None with the mailbox of their session (selfservice).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model

from domains import services as domain_services
from domains.models import Domain
from mailboxes.models import Mailbox
from tests import factories
from tests.panel.conftest import mailbox_hash
from tests.sieve.pigeonhole import Pigeonhole


def _mailbox(address: str) -> Mailbox:
    return factories.mailbox(address, password=None, password_hash=mailbox_hash())


@pytest.fixture
def world(db) -> None:
    a = factories.domain("a.example")
    factories.domain("b.example")
    _mailbox("alice@a.example")
    _mailbox("bob@a.example")
    _mailbox("carol@b.example")
    factories.alias("sales@a.example", "alice@a.example", "bob@a.example")
    factories.alias("@a.example", "alice@a.example")
    domain_services.alias_domain_create(actor=None, name="alias-a.example", target=a.name)


@pytest.fixture
def alice(world) -> Mailbox:
    return Mailbox.objects.select_related("domain").get(local_part="alice")


@pytest.fixture
def bob(world) -> Mailbox:
    return Mailbox.objects.select_related("domain").get(local_part="bob")


@pytest.fixture
def carol(world) -> Mailbox:
    return Mailbox.objects.select_related("domain").get(local_part="carol")


@pytest.fixture
def admin_a(world):
    return factories.domain_admin("admin-a", Domain.objects.get(name="a.example"))


@pytest.fixture
def admin_b(world):
    return factories.domain_admin("admin-b", Domain.objects.get(name="b.example"))


@pytest.fixture
def superadmin(db):
    return get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)


@pytest.fixture(scope="session")
def pigeonhole() -> Iterator[Pigeonhole]:
    judge = Pigeonhole()
    try:
        yield judge
    finally:
        judge.close()
