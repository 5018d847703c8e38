"""The exported Postfix lookup tables, asked with the real `postmap -q` on every dialect.

The world is described in tests/contract/scenario.py. On PostgreSQL and MariaDB postmap
connects as the exported read-only Postfix role, so each answer here also proves that the
Postfix views are enough for Postfix.
"""

from __future__ import annotations

import pytest

from tests.contract.conftest import World
from tests.contract.scenario import IDN_DOMAIN

pytestmark = pytest.mark.tools


def rows(value: str | None) -> set[str]:
    """The rows of a postmap answer (Postfix joins several result rows with commas)."""
    return set(value.split(",")) if value else set()


# --- domains -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "hosted"),
    [
        ("example.com", True),
        ("nodefault.example", True),
        ("transported.example", True),
        ("inactive.example", True),  # inactive, still ours: recipient_access refuses its mail
        ("relay.example", False),  # relayed, not hosted
        ("backup.example", False),
        ("alias.example", False),  # an alias domain is virtual_alias_domains
        ("unknown.example", False),
        ("com", False),
    ],
)
def test_virtual_mailbox_domains_answers_hosted_domains(
    world: World, domain: str, hosted: bool
) -> None:
    assert world.lookup("virtual_mailbox_domains", domain) == (domain if hosted else None)


@pytest.mark.parametrize(
    ("domain", "answer"),
    [
        ("alias.example", "alias.example"),
        ("alias-nocatch.example", "alias-nocatch.example"),
        ("off-alias.example", "off-alias.example"),  # inactive, still ours (recipient_access)
        ("example.com", None),
        ("relay.example", None),
    ],
)
def test_virtual_alias_domains_answers_alias_domains(
    world: World, domain: str, answer: str | None
) -> None:
    assert world.lookup("virtual_alias_domains", domain) == answer


# --- mailboxes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "path"),
    [
        ("alice@example.com", "example.com/alice/"),  # Maildir: trailing slash
        ("bob@example.com", "example.com/bob/mbox"),  # mbox: a file, no slash
        ("frank@nodefault.example", "nodefault.example/frank/"),
        ("carol@example.com", None),  # inactive mailbox
        ("gina@inactive.example", None),  # active mailbox of an inactive domain
        ("team@example.com", None),  # an alias, not a mailbox
        ("nobody@example.com", None),
        ("alice@alias.example", None),  # reached only after virtual alias rewriting
        ("example.com", None),  # a bare domain has no %u: the query is not even sent
        ("@example.com", None),
    ],
)
def test_virtual_mailbox_maps(world: World, address: str, path: str | None) -> None:
    assert world.lookup("virtual_mailbox_maps", address) == path


def test_maildir_path_ends_with_slash_and_mbox_path_does_not(world: World) -> None:
    maildir = world.lookup("virtual_mailbox_maps", "alice@example.com")
    mbox = world.lookup("virtual_mailbox_maps", "bob@example.com")
    assert maildir is not None and maildir.endswith("/")
    assert mbox is not None and not mbox.endswith("/")


@pytest.mark.parametrize(
    ("address", "uid", "gid"),
    [
        ("alice@example.com", "3001", "3002"),  # mailbox override
        ("mixed@example.com", "3101", "2002"),  # uid overridden, gid from the domain
        ("bob@example.com", "2001", "2002"),  # domain
        ("frank@nodefault.example", "5100", "5200"),  # server default
        (f"jan@{IDN_DOMAIN}", "5100", "5200"),
    ],
)
def test_uid_and_gid_precedence(world: World, address: str, uid: str, gid: str) -> None:
    assert world.lookup("virtual_uid_maps", address) == uid
    assert world.lookup("virtual_gid_maps", address) == gid


def test_uid_and_gid_of_unknown_and_inactive_mailboxes(world: World) -> None:
    for address in ("nobody@example.com", "carol@example.com", "gina@inactive.example"):
        assert world.lookup("virtual_uid_maps", address) is None
        assert world.lookup("virtual_gid_maps", address) is None


# --- aliases -----------------------------------------------------------------------------------


def test_alias_with_several_destinations_answers_them_comma_joined(world: World) -> None:
    answer = world.lookup("virtual_alias_maps", "team@example.com")
    assert answer is not None
    assert answer.count(",") == 2
    assert rows(answer) == {"alice@example.com", "bob@example.com", "ext@elsewhere.net"}


def test_inactive_alias_answers_nothing(world: World) -> None:
    assert world.lookup("virtual_alias_maps", "old@example.com") is None


@pytest.mark.parametrize(
    "address", ["alice@example.com", "bob@example.com", "postmaster@example.com"]
)
def test_mailbox_answers_for_itself_so_the_catchall_never_swallows_it(
    world: World, address: str
) -> None:
    # Postfix asks user@domain first: the mailbox's own row stops the search there.
    assert world.lookup("virtual_alias_maps", address) == address
    assert world.lookup("virtual_alias_catchall_maps", address) is None


def test_inactive_mailbox_still_shields_its_address_from_the_catchall(world: World) -> None:
    # A disabled mailbox's mail is refused (no virtual_mailbox_maps row), not handed to
    # whoever reads the catch-all.
    assert world.lookup("virtual_alias_maps", "carol@example.com") == "carol@example.com"
    assert world.lookup("virtual_mailbox_maps", "carol@example.com") is None


DISABLED = "550 5.2.1 Mailbox disabled"
DOMAIN_DISABLED = "550 5.2.1 Domain disabled"


@pytest.mark.parametrize(
    ("key", "answer"),
    [
        ("carol@example.com", DISABLED),  # the inactive mailbox, in its own domain
        ("CAROL@Example.COM", DISABLED),
        ("carol@alias.example", DISABLED),  # and through the alias domain
        ("carol@off-alias.example", DOMAIN_DISABLED),  # an inactive alias domain refuses all
        ("alice@example.com", None),  # active mailboxes pass on to the next restriction
        ("dave@example.com", None),
        ("nobody@example.com", None),
        ("gina@inactive.example", DOMAIN_DISABLED),  # and so does an inactive domain
        # The other keys check_recipient_access asks for cost no query and find nothing.
        ("example.com", None),
        ("carol@", None),
    ],
)
def test_recipient_access_refuses_disabled_mailboxes_at_rcpt(
    world: World, key: str, answer: str | None
) -> None:
    assert world.lookup("recipient_access", key, fold=False) == answer


def test_recipient_access_answers_only_refusals(world: World) -> None:
    # The table sits before permit_* and reject_unauth_destination in the restrictions: an
    # OK or a PERMIT answer there would open a relay, so only 5xx refusals may come out.
    keys = [
        f"{local}@{domain}"
        for local in ("carol", "alice", "team", "x")
        for domain in ("example.com", "alias.example", "nocatch.example")
    ]
    lines = world.lookup_all("recipient_access", keys, fold=False)
    assert {line.split("\t", 1)[1] for line in lines} == {DISABLED}


def test_unknown_user_reaches_the_catchall_only_through_the_domain_key(world: World) -> None:
    assert world.lookup("virtual_alias_maps", "nobody@example.com") is None
    assert world.lookup("virtual_alias_catchall_maps", "nobody@example.com") is None
    assert world.lookup("virtual_alias_catchall_maps", "@example.com") == "postmaster@example.com"
    # The catch-all row is no user@domain row: an empty %u suppresses the query.
    assert world.lookup("virtual_alias_maps", "@example.com") is None


@pytest.mark.parametrize("key", ["@nocatch.example", "@inactive.example", "@unknown.example"])
def test_no_catchall_where_none_is_active(world: World, key: str) -> None:
    assert world.lookup("virtual_alias_catchall_maps", key) is None


def test_alias_sharing_a_mailbox_address_forwards_and_keeps_a_copy(world: World) -> None:
    answer = world.lookup("virtual_alias_maps", "dave@example.com")
    # Postfix delivers an address that expands to itself: the copy stays in the mailbox.
    assert rows(answer) == {"dave@example.com", "dave@elsewhere.net"}
    assert world.lookup("virtual_mailbox_maps", "dave@example.com") == "example.com/dave/"


def test_alias_sharing_a_mailbox_address_without_itself_only_forwards(world: World) -> None:
    assert world.lookup("virtual_alias_maps", "erin@example.com") == "erin@elsewhere.net"
    # The mailbox keeps existing (and its older mail stays readable).
    assert world.lookup("virtual_mailbox_maps", "erin@example.com") == "example.com/erin/"


def test_inactive_domain_has_no_aliases(world: World) -> None:
    assert world.lookup("virtual_alias_maps", "info@inactive.example") is None
    assert world.lookup("virtual_alias_maps", "gina@inactive.example") is None


# --- alias domains -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "answer"),
    [
        ("alice@alias.example", "alice@example.com"),  # a mailbox of the target
        ("team@alias.example", "team@example.com"),  # an alias of the target
        ("dave@alias.example", "dave@example.com"),  # both: one row, expanded in turn
        ("henry@alias-nocatch.example", "henry@nocatch.example"),
        ("nobody@alias.example", None),  # only addresses that exist are rewritten
        ("old@alias.example", None),  # the target's alias is inactive
        ("alice@off-alias.example", None),  # inactive alias domain
    ],
)
def test_alias_domain_rewrites_existing_addresses(
    world: World, key: str, answer: str | None
) -> None:
    assert world.lookup("virtual_alias_maps", key) == answer


@pytest.mark.parametrize(
    ("key", "answer"),
    [
        ("@alias.example", "@example.com"),  # example.com has a catch-all
        ("@alias-nocatch.example", None),  # nocatch.example has none
        ("@off-alias.example", None),
        ("alice@alias.example", None),  # never for a full address
        ("nobody@alias.example", None),
    ],
)
def test_alias_domain_catchall_only_when_the_target_has_one(
    world: World, key: str, answer: str | None
) -> None:
    assert world.lookup("virtual_alias_catchall_maps", key) == answer


# --- relay, backup MX, transports --------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "answer"),
    [
        ("relay.example", "relay.example"),
        ("backup.example", "backup.example"),
        ("example.com", None),
        ("alias.example", None),
        ("unknown.example", None),
    ],
)
def test_relay_domains(world: World, domain: str, answer: str | None) -> None:
    assert world.lookup("relay_domains", domain) == answer


@pytest.mark.parametrize(
    ("domain", "transport"),
    [
        ("relay.example", "smtp:[mx.relay.example]:25"),
        ("transported.example", "lmtp:unix:private/dovecot-lmtp"),  # hosted, own transport
        ("backup.example", None),  # backup MX: the default relay transport, via MX records
        ("example.com", None),  # hosted: virtual_transport
        ("alice@example.com", None),  # Postfix then asks for the domain
    ],
)
def test_transport_maps(world: World, domain: str, transport: str | None) -> None:
    assert world.lookup("transport_maps", domain) == transport


def test_hosted_domain_with_transport_is_still_a_mailbox_domain(world: World) -> None:
    assert world.lookup("virtual_mailbox_domains", "transported.example") == "transported.example"
    path = world.lookup("virtual_mailbox_maps", "ivan@transported.example")
    assert path == "transported.example/ivan/"


# --- smtpd_sender_login_maps -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "logins"),
    [
        ("alice@example.com", {"alice@example.com"}),  # a mailbox owns itself
        ("team@example.com", {"alice@example.com", "bob@example.com", "ext@elsewhere.net"}),
        # forwarding (an alias on a mailbox's own address) makes no one else the owner
        ("dave@example.com", {"dave@example.com"}),
        ("erin@example.com", {"erin@example.com"}),
        ("dave@alias.example", {"dave@example.com"}),
        ("alice@alias.example", {"alice@example.com"}),  # alias domain: the target mailbox
        # an alias reached through an alias domain: the same destinations own it
        ("team@alias.example", {"alice@example.com", "bob@example.com", "ext@elsewhere.net"}),
        ("carol@example.com", set()),  # inactive mailbox
        ("old@example.com", set()),  # inactive alias
        ("gina@inactive.example", set()),
        ("alice@off-alias.example", set()),
        ("nobody@example.com", set()),
        ("@example.com", set()),  # nobody may send as the catch-all
    ],
)
def test_sender_login_maps(world: World, sender: str, logins: set[str]) -> None:
    assert rows(world.lookup("smtpd_sender_login_maps", sender)) == logins


# --- keys: case, quoting, SQL metacharacters, IDN ---------------------------------------------

ODD_CASE = [
    ("virtual_mailbox_domains", "EXAMPLE.Com", "example.com"),
    ("virtual_alias_domains", "Alias.EXAMPLE", "alias.example"),
    ("relay_domains", "Relay.Example", "relay.example"),
    ("transport_maps", "RELAY.EXAMPLE", "smtp:[mx.relay.example]:25"),
    ("virtual_mailbox_maps", "ALICE@Example.COM", "example.com/alice/"),
    ("virtual_uid_maps", "Alice@EXAMPLE.com", "3001"),
    ("virtual_gid_maps", "aLiCe@example.COM", "3002"),
    ("virtual_alias_maps", "ALICE@EXAMPLE.COM", "alice@example.com"),
    ("virtual_alias_maps", "Alice@Alias.Example", "alice@example.com"),
    ("virtual_alias_catchall_maps", "@EXAMPLE.COM", "postmaster@example.com"),
    ("smtpd_sender_login_maps", "ALICE@example.com", "alice@example.com"),
]


@pytest.mark.parametrize("fold", [False, True], ids=["as-given", "postfix-folded"])
@pytest.mark.parametrize(("table", "key", "answer"), ODD_CASE)
def test_key_in_odd_case_finds_the_row(
    world: World, table: str, key: str, answer: str | None, fold: bool
) -> None:
    # as-given (postmap -f): the query's lower() alone must find the lowercase row.
    assert world.lookup(table, key, fold=fold) == answer


@pytest.mark.parametrize(
    ("key", "address", "path"),
    [
        # Postfix quotes the key itself: the quote reaches the row, not the SQL.
        ("o'brien@example.com", "o'brien@example.com", "example.com/o'brien/"),
        ("O'Brien@Example.com", "o'brien@example.com", "example.com/o'brien/"),
        ("under_score@example.com", "under_score@example.com", "example.com/under_score/"),
    ],
)
def test_real_local_parts_with_sql_metacharacters(
    world: World, key: str, address: str, path: str
) -> None:
    assert world.lookup("virtual_mailbox_maps", key, fold=False) == path
    assert world.lookup("virtual_alias_maps", key, fold=False) == address
    assert world.lookup("smtpd_sender_login_maps", key, fold=False) == address


HOSTILE_KEYS = [
    "alice') OR ('1'='1@example.com",
    "x@example.com') OR ('1'='1",
    "example.com') OR ('1'='1",
    "' OR ''='",
    "'; DROP TABLE mailboxes_mailbox; --@example.com",
    "alice@example.com'; DROP TABLE domains_domain; --",
    "example.com'; DELETE FROM mailboxes_alias; --",
    "\\'; DROP TABLE mailboxes_mailbox; --@example.com",  # backslash-quote escape trick
    "alice\\@example.com",
    "o\\'brien@example.com",
    "alice\\",
    '"alice"@example.com',
    'al"ice@example.com',
    "%@example.com",
    "%%@example.com",
    "ali%@example.com",
    "al_ce@example.com",  # a LIKE would match alice
    "underxscore@example.com",  # and this under_score
    "_xample.com",
    "example.co_",
    "%.com",
    "*@example.com",
    "alice@example.com;",
    "alice@example.com --",
    "alice@example.com\t",
    "@",
]
TABLES = [
    "virtual_mailbox_domains",
    "virtual_alias_domains",
    "relay_domains",
    "transport_maps",
    "virtual_mailbox_maps",
    "virtual_uid_maps",
    "virtual_alias_maps",
    "virtual_alias_catchall_maps",
    "smtpd_sender_login_maps",
]
COUNT_ROWS = """
from domains.models import AliasDomain, Domain
from mailboxes.models import Alias, AliasDestination, Mailbox
print([m.objects.count() for m in (Domain, AliasDomain, Mailbox, Alias, AliasDestination)])
"""


def test_hostile_keys_match_nothing_and_change_nothing(world: World) -> None:
    before = world.db.python(COUNT_ROWS).stdout
    # One postmap a table, reading the keys from stdin; it prints only the keys it found
    # (first a control: a real key is printed with its answer).
    found = world.lookup_all("virtual_mailbox_maps", ["nobody@example.com", "alice@example.com"])
    assert found == ["alice@example.com\texample.com/alice/"]
    answered = {table: world.lookup_all(table, HOSTILE_KEYS, fold=False) for table in TABLES}
    assert answered == {table: [] for table in TABLES}
    assert world.db.python(COUNT_ROWS).stdout == before
    # The views still answer, so nothing behind them was dropped.
    assert world.lookup("virtual_mailbox_maps", "alice@example.com") == "example.com/alice/"
    assert world.lookup("virtual_alias_maps", "team@example.com") is not None


def test_idn_domain_is_found_by_its_a_label(world: World) -> None:
    assert world.lookup("virtual_mailbox_domains", IDN_DOMAIN) == IDN_DOMAIN
    assert world.lookup("virtual_mailbox_maps", f"jan@{IDN_DOMAIN}") == f"{IDN_DOMAIN}/jan/"
    assert world.lookup("virtual_alias_maps", f"jan@{IDN_DOMAIN}") == f"jan@{IDN_DOMAIN}"
    key = f"JAN@{IDN_DOMAIN.upper()}"
    assert world.lookup("virtual_mailbox_maps", key, fold=False) == f"{IDN_DOMAIN}/jan/"


# --- the database is the configuration --------------------------------------------------------

SET_HENRY_ACTIVE = """
from mailboxes import services
from mailboxes.models import Mailbox
box = Mailbox.objects.get(local_part="henry", domain__name="nocatch.example")
services.mailbox_set_active(actor=None, mailbox=box, active={active})
"""


def test_a_change_in_the_panel_is_seen_at_the_next_lookup(world: World) -> None:
    address = "henry@nocatch.example"
    assert world.lookup("virtual_mailbox_maps", address) == "nocatch.example/henry/"
    world.db.python(SET_HENRY_ACTIVE.format(active=False))
    try:
        assert world.lookup("virtual_mailbox_maps", address) is None
        assert world.lookup("smtpd_sender_login_maps", address) is None
    finally:
        world.db.python(SET_HENRY_ACTIVE.format(active=True))
    assert world.lookup("virtual_mailbox_maps", address) == "nocatch.example/henry/"
