"""A write with several mistakes names them all in one answer (mailadmin.writes.Checks), and
no form leaves checking to the browser, which stops at the first field it dislikes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from mailboxes import services as ms
from mailboxes.models import Alias, Mailbox
from tests import factories

ROOT = Path(__file__).resolve().parents[1]
GIB = 1024**3


@pytest.mark.django_db
def test_a_mailbox_with_four_mistakes_gets_four_messages() -> None:
    factories.domain("shop.example", max_mailbox_quota=2 * GIB)
    factories.mailbox("anna@shop.example")
    with pytest.raises(ValidationError) as refused:
        ms.mailbox_create(
            actor=None,
            address="anna@shop.example",
            password="short",
            quota=3 * GIB,
            uid=1,
        )
    errors = refused.value.message_dict
    assert set(errors) == {"address", "quota", "password", "uid"}, errors
    assert Mailbox.objects.count() == 1


@pytest.mark.django_db
def test_an_alias_with_two_mistakes_gets_two_messages() -> None:
    factories.domain("shop.example", max_aliases=1)
    factories.alias("team@shop.example", "x@elsewhere.example")
    with pytest.raises(ValidationError) as refused:
        ms.alias_create(actor=None, address="team@shop.example", destinations=["not an address"])
    errors = refused.value.message_dict
    assert set(errors) == {"address", "destinations"}, errors
    # The taken address is the mistake; the full domain is not said as well.
    assert errors["address"] == ["The alias team@shop.example already exists."]
    assert Alias.objects.count() == 1


def test_every_form_leaves_checking_to_the_server() -> None:
    """`novalidate` on every form: the server's messages, all at once, in the page's language,
    instead of the browser's tooltip for the first field only."""
    templates = subprocess.run(
        ["git", "ls-files", "*.html"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    without = [
        f"{name}: {tag[:80]}"
        for name in templates
        for tag in re.findall(r"<form\b[^>]*>", (ROOT / name).read_text(encoding="utf-8"))
        if "novalidate" not in tag
    ]
    assert without == []
