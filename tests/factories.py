"""Small builders for tests: real rows through the real services."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from domains import services as domain_services
from domains.models import Domain
from mailboxes import services as mailbox_services
from mailboxes.models import Alias, Mailbox

PASSWORD = "correct horse battery"


def domain(name: str = "example.com", **kwargs) -> Domain:
    return domain_services.domain_create(actor=None, name=name, **kwargs)


def mailbox(address: str = "user@example.com", **kwargs) -> Mailbox:
    kwargs.setdefault("password", PASSWORD)
    return mailbox_services.mailbox_create(actor=None, address=address, **kwargs)[0]


def alias(address: str, *destinations: str, **kwargs) -> Alias:
    return mailbox_services.alias_create(
        actor=None, address=address, destinations=list(destinations), **kwargs
    )


def domain_admin(username: str, *domains: Domain):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    for item in domains:
        item.admins.add(user)
    return user
