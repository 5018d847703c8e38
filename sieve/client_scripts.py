"""The Sieve scripts a mailbox's mail clients keep over ManageSieve (RFC 5804), as Dovecot
lists them: they live in the mailbox's home on the mail host (Pigeonhole's `sieve =
file:~/sieve;active=~/dovecot.sieve`), which the panel cannot read, so it asks doveadm's
HTTP API (mailadmin/doveadm.py). They run after the panel's own script (`sieve_before`); the
panel shows them and never writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailadmin import doveadm
from mailboxes.models import Mailbox

# The states of ClientScripts: Dovecot listed the scripts; the panel is not set up to ask
# (MAILADMIN_DOVEADM_URL or the key empty); Dovecot could not be asked or said no.
LISTED, NOT_SET_UP, UNAVAILABLE = "listed", "not-set-up", "unavailable"


@dataclass(frozen=True)
class ClientScript:
    name: str
    active: bool


@dataclass(frozen=True)
class ClientScripts:
    """The Sieve scripts the mailbox's mail clients keep over ManageSieve, as Dovecot lists
    them. Only in the LISTED state do `scripts` say anything (an empty tuple: none); in the
    others the panel does not know, and `reason` says why (for admins, never the owner)."""

    state: str
    scripts: tuple[ClientScript, ...] = ()
    reason: str = ""

    @property
    def active(self) -> ClientScript | None:
        return next((item for item in self.scripts if item.active), None)


def client_scripts_of(mailbox: Mailbox) -> ClientScripts:
    """Asks Dovecot (doveadm sieveList) which scripts the mailbox's home holds and which is
    active: they live on the mail host, which the panel cannot read. Never raises for Dovecot
    being away; the page says so instead. The panel reads these scripts and never writes them.
    """
    try:
        rows = doveadm.run("sieveList", {"user": mailbox.address})
    except doveadm.NotConfigured as exc:
        return ClientScripts(NOT_SET_UP, reason=exc.reason)
    except doveadm.DoveadmError as exc:
        return ClientScripts(UNAVAILABLE, reason=exc.reason)
    try:
        scripts = tuple(
            ClientScript(name=str(row["script"]), active=row.get("active") == "ACTIVE")
            for row in rows
        )
    except KeyError:
        return ClientScripts(UNAVAILABLE, reason="Dovecot's list of scripts has no names")
    return ClientScripts(LISTED, tuple(sorted(scripts, key=lambda item: item.name)))
