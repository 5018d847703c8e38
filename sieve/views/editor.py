"""Whose filters and vacation reply a page edits, and as whom the services write them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from domains.models import Domain
from mailadmin.access import Actor
from mailboxes.models import Mailbox


@dataclass(frozen=True)
class Editor:
    """The owner (actor None, `by_owner`: the mailbox is their session's) or an admin (the
    mailbox found through the selectors, so a foreign one was a 404 already)."""

    mailbox: Mailbox
    actor: Actor
    by_owner: bool
    # The URL names' prefix ("" or "admin_") and their leading arguments.
    prefix: str = ""
    args: tuple[str | int, ...] = ()
    # The admin pages show the domain's tabs.
    domain: Domain | None = None

    def url(self, name: str, *extra: int) -> str:
        return reverse(f"sieve:{self.prefix}{name}", args=[*self.args, *extra])

    def writes(self) -> dict[str, Any]:
        """The services' who-writes arguments."""
        return {"actor": self.actor, "mailbox": self.mailbox, "by_owner": self.by_owner}

    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in ("vacation", "filters", "rule_new", "spam")}


def owner_editor(mailbox: Mailbox) -> Editor:
    return Editor(mailbox=mailbox, actor=None, by_owner=True)


def admin_editor(actor: Actor, domain: Domain, mailbox: Mailbox) -> Editor:
    return Editor(
        mailbox=mailbox,
        actor=actor,
        by_owner=False,
        prefix="admin_",
        args=(domain.name, mailbox.pk),
        domain=domain,
    )
