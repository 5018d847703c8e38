"""The row URL tags give what reverse() gives, for any domain, pk, local part and prefix."""

from __future__ import annotations

import pytest
from django.urls import reverse, set_script_prefix

from mailboxes.templatetags.mailbox_display import address_url, member_url


@pytest.fixture
def script_prefix():
    yield set_script_prefix
    set_script_prefix("/")


@pytest.mark.parametrize(
    "domain", ["a.example", "987654321987654321.example", "xn--bcher-kva.example"]
)
@pytest.mark.parametrize("pk", [1, 42, 987654321987654321])
def test_member_url_is_reverse(domain: str, pk: int) -> None:
    for name in ("mailboxes:mailbox_edit", "mailboxes:alias_delete", "mailboxes:mailbox_toggle"):
        assert member_url(name, domain, pk) == reverse(name, args=[domain, pk])


@pytest.mark.parametrize("local", ["alice", "first.last+tag", "a%b", "o'neil", "x=y&z", ""])
def test_address_url_is_reverse(local: str) -> None:
    name = "selfservice:admin_mailbox"
    expected = reverse(name, args=[f"{local}@a.example"])
    assert address_url(name, local, "a.example") == expected


def test_a_script_prefix_is_not_cached_across(script_prefix) -> None:
    plain = member_url("mailboxes:mailbox_edit", "a.example", 7)
    script_prefix("/panel/")
    assert member_url("mailboxes:mailbox_edit", "a.example", 7) == "/panel" + plain
    assert address_url("selfservice:admin_mailbox", "bob", "a.example").startswith("/panel/")
