"""The panel's three personas and their domains.

- `superadmin`: sees and changes everything (client_super);
- `admin_a`: domain admin of a.example only (client_a);
- `admin_b`: domain admin of b.example only (client_b).

Each domain has two mailboxes, an alias, a catch-all and an alias domain, so every object type
exists on both sides and "another domain's object" can be tried for each.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from domains import services as domain_services
from domains.models import AliasDomain, Domain
from mailadmin.passwords import hash_password
from tests import factories

PASSWORD = factories.PASSWORD
# Hashed once: the panel tests are about pages and scope, not about hashing cost.
_MAILBOX_HASH: list[str] = []


def mailbox_hash() -> str:
    if not _MAILBOX_HASH:
        _MAILBOX_HASH.append(hash_password(PASSWORD))
    return _MAILBOX_HASH[0]


@pytest.fixture(autouse=True)
def _fast_admin_hashes(settings):
    """Admin passwords with a cheap hasher (the login tests still check real passwords)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _populate(name: str) -> Domain:
    domain = factories.domain(name, description=f"Domain {name}")
    factories.mailbox(f"alice@{name}", name="Alice", password=None, password_hash=mailbox_hash())
    factories.mailbox(f"bob@{name}", name="Bob", password=None, password_hash=mailbox_hash())
    factories.alias(f"sales@{name}", f"alice@{name}", f"bob@{name}")
    factories.alias(f"@{name}", f"alice@{name}")
    domain_services.alias_domain_create(actor=None, name=f"alias-{name}", target=name)
    return domain


@pytest.fixture
def domain_a(db) -> Domain:
    return _populate("a.example")


@pytest.fixture
def domain_b(db) -> Domain:
    return _populate("b.example")


@pytest.fixture
def alias_domain_a(domain_a) -> AliasDomain:
    return AliasDomain.objects.get(name="alias-a.example")


@pytest.fixture
def alias_domain_b(domain_b) -> AliasDomain:
    return AliasDomain.objects.get(name="alias-b.example")


@pytest.fixture
def superadmin(db):
    return get_user_model().objects.create_superuser(username="root", password=PASSWORD)


@pytest.fixture
def admin_a(domain_a):
    return factories.domain_admin("admin-a", domain_a)


@pytest.fixture
def admin_b(domain_b):
    return factories.domain_admin("admin-b", domain_b)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_super(superadmin, domain_a, domain_b) -> Client:
    return _client_for(superadmin)


@pytest.fixture
def client_a(admin_a, domain_b) -> Client:
    return _client_for(admin_a)


@pytest.fixture
def client_b(admin_b, domain_a) -> Client:
    return _client_for(admin_b)


@pytest.fixture
def htmx() -> dict[str, str]:
    """Headers of an htmx request: `client.get(url, headers=htmx)` asks for the partial."""
    return {"HX-Request": "true"}
