"""The world the contract tests query: built through the services layer, as the panel would.

Run inside a contract database with ``ContractDB.python(BUILD)``; nothing here touches a table
directly. The tests read the world back only through the exported ``*.cf`` files and postmap.

Server default owner: uid 5100, gid 5200 (``server_settings_update``).

example.com (hosted, domain owner uid 2001 / gid 2002)
    alice        Maildir, owner override uid 3001 / gid 3002
    bob          mbox
    carol        inactive mailbox
    dave         mailbox and alias: dave@example.com (keeps a copy) + dave@elsewhere.net
    erin         mailbox and alias: forwarded to erin@elsewhere.net only (no copy)
    mixed        uid override 3101 only (gid from the domain)
    o'brien      a quote in a real local part
    under_score  an underscore in a real local part
    postmaster   receives the catch-all
    team         alias: alice@example.com, bob@example.com, ext@elsewhere.net
    old          inactive alias to alice@example.com
    @            catch-all to postmaster@example.com
nodefault.example (hosted, no owner): frank (owner from the server default)
inactive.example (hosted, inactive): gina, alias info, catch-all
nocatch.example (hosted, no catch-all): henry
transported.example (hosted, transport lmtp:unix:private/dovecot-lmtp): ivan
relay.example (relay to smtp:[mx.relay.example]:25)
backup.example (backup MX)
bücher.example, stored as xn--bcher-kva.example (hosted): jan
alias.example           active alias domain of example.com (which has a catch-all)
alias-nocatch.example   active alias domain of nocatch.example (no catch-all)
off-alias.example       inactive alias domain of example.com
"""

from __future__ import annotations

from typing import Any

PASSWORD = "correct horse battery"
IDN_DOMAIN = "xn--bcher-kva.example"

BUILD = "from tests.contract.scenario import build\nbuild()\n"


def build() -> None:
    """Create the world described above (inside a subprocess where Django is set up)."""
    from domains import services as ds
    from mailadmin import passwords
    from mailboxes import services as ms

    # One real hash in the default scheme, given to every mailbox as an imported hash would
    # be: hashing each password separately would only slow the suite down.
    password_hash = passwords.hash_password(PASSWORD)

    def mailbox(address: str, **kwargs: Any) -> None:
        ms.mailbox_create(actor=None, address=address, password_hash=password_hash, **kwargs)

    def alias(address: str, *destinations: str, **kwargs: Any) -> None:
        ms.alias_create(actor=None, address=address, destinations=destinations, **kwargs)

    ds.server_settings_update(actor=None, default_uid=5100, default_gid=5200)

    ds.domain_create(actor=None, name="Example.COM", uid=2001, gid=2002)
    mailbox("alice@example.com", uid=3001, gid=3002)
    mailbox("bob@example.com", storage_format="mbox")
    mailbox("carol@example.com", active=False)
    mailbox("dave@example.com")
    alias("dave@example.com", "dave@example.com", "dave@elsewhere.net")
    mailbox("erin@example.com")
    alias("erin@example.com", "erin@elsewhere.net", mailbox_copy=False)
    mailbox("mixed@example.com", uid=3101)
    mailbox("o'brien@example.com")
    mailbox("under_score@example.com")
    mailbox("postmaster@example.com")
    alias("team@example.com", "alice@example.com", "bob@example.com", "ext@elsewhere.net")
    alias("old@example.com", "alice@example.com", active=False)
    alias("@example.com", "postmaster@example.com")

    ds.domain_create(actor=None, name="nodefault.example")
    mailbox("frank@nodefault.example")

    ds.domain_create(actor=None, name="inactive.example", active=False)
    mailbox("gina@inactive.example")
    alias("info@inactive.example", "gina@inactive.example")
    alias("@inactive.example", "gina@inactive.example")

    ds.domain_create(actor=None, name="nocatch.example")
    mailbox("henry@nocatch.example")

    ds.domain_create(
        actor=None, name="transported.example", transport="lmtp:unix:private/dovecot-lmtp"
    )
    mailbox("ivan@transported.example")

    ds.domain_create(
        actor=None, name="relay.example", delivery="relay", transport="smtp:[mx.relay.example]:25"
    )
    ds.domain_create(actor=None, name="backup.example", delivery="backup")

    ds.domain_create(actor=None, name="bücher.example")
    mailbox(f"jan@{IDN_DOMAIN}")

    ds.alias_domain_create(actor=None, name="alias.example", target="example.com")
    ds.alias_domain_create(actor=None, name="alias-nocatch.example", target="nocatch.example")
    ds.alias_domain_create(actor=None, name="off-alias.example", target="example.com", active=False)
