"""Mailbox owners and their domains, and clients logged in as an owner or an admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from domains.models import Domain
from mailboxes.models import Mailbox
from tests import factories

OWNER_PASSWORD = "Mellow-Harbour-42"
OWNER = "john@example.com"


def login_owner(client: Client, address: str = OWNER, password: str = OWNER_PASSWORD):
    return client.post("/me/login/", {"address": address, "password": password})


@pytest.fixture
def example(db) -> Domain:
    return factories.domain("example.com")


@pytest.fixture
def owner(example) -> Mailbox:
    return factories.mailbox(OWNER, password=OWNER_PASSWORD, name="John")


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    response = login_owner(client)
    assert response.status_code == 302, response.content.decode()
    return client


@pytest.fixture
def admin_user(example):
    return factories.domain_admin("admin-example", example)


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def superadmin(db):
    return get_user_model().objects.create_superuser(username="root", password=factories.PASSWORD)
