"""The owner's language, kept for what Dovecot writes them (quota warnings in their language)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from mailboxes.models import Mailbox, MailboxLogin
from mailboxes.services import mailbox_set_language
from tests.selfservice.conftest import OWNER_PASSWORD, login_owner


def login_language(mailbox: Mailbox) -> str:
    return MailboxLogin.objects.get(mailbox=mailbox).language


@pytest.mark.parametrize(("language", "kept"), [("uk", "uk"), ("en", ""), ("", "")])
def test_the_login_keeps_the_language_the_owner_logs_in_with(
    owner: Mailbox, language: str, kept: str
) -> None:
    MailboxLogin.objects.filter(mailbox=owner).update(language="uk" if not kept else "")
    response = login_owner(Client(HTTP_ACCEPT_LANGUAGE=language or "en"))
    assert response.status_code == 302
    assert login_language(owner) == kept


def test_a_failed_login_keeps_the_language(owner: Mailbox) -> None:
    login_owner(Client(HTTP_ACCEPT_LANGUAGE="uk"), password=OWNER_PASSWORD + "x")
    assert login_language(owner) == ""


def test_a_language_the_panel_does_not_speak_is_refused(owner: Mailbox) -> None:
    with pytest.raises(ValidationError):
        mailbox_set_language(mailbox=owner, language="de")
    assert login_language(owner) == ""
