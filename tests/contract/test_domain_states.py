"""Disabled domains, SMTPUTF8 U-labels, role addresses and relay recipient lists, as the real
postmap reads them from the exported tables on every dialect.

The world (STATES, below) is a small one of its own, built like the scenario world: through
the services on a fresh migrated database, exported with export_maps, and on PostgreSQL and
MariaDB queried as the exported read-only Postfix role.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.conftest import DIALECTS, World, Worlds
from tests.contract.test_lookup_functions import assert_functions_answer_as_views

pytestmark = pytest.mark.tools

IDN = "xn--bcher-kva.example"  # bücher.example
IDN_ALIAS = "xn--mnchen-3ya.example"  # münchen.example, an alias domain of bücher.example
DOMAIN_DISABLED = "550 5.2.1 Domain disabled"
MAILBOX_DISABLED = "550 5.2.1 Mailbox disabled"
SERVER_POSTMASTER = "postmaster@localhost"  # ServerSettings.postmaster_address, the default

STATES = """
from domains import services as ds
from domains.models import Domain, RelayRecipient
from mailboxes import services as ms

def mailbox(address, **kwargs):
    ms.mailbox_create(actor=None, address=address, password="correct horse battery", **kwargs)

def alias(address, *destinations):
    ms.alias_create(actor=None, address=address, destinations=destinations)

ds.domain_create(actor=None, name="on.example")
mailbox("ann@on.example")
ds.domain_create(actor=None, name="off.example")
mailbox("bea@off.example")
alias("info@off.example", "bea@off.example")
alias("@off.example", "bea@off.example")
ds.domain_set_active(actor=None, domain=Domain.objects.get(name="off.example"), active=False)
ds.alias_domain_create(actor=None, name="off-target.example", target="off.example")
ds.alias_domain_create(actor=None, name="off-alias.example", target="on.example", active=False)
ds.alias_domain_create(actor=None, name="on-alias.example", target="on.example")
mailbox("gone@on.example", active=False)
mailbox("kept@on.example", active=False)
# What an import may bring: an active alias on an inactive mailbox's address takes its mail,
# so the mailbox is not refused; and alias domains of a relay domain (the services allow
# only hosted targets), which only a disabled state makes answer.
from domains.models import AliasDomain
from mailboxes.models import Alias, AliasDestination
kept = Alias.objects.create(domain=Domain.objects.get(name="on.example"), local_part="kept")
AliasDestination.objects.create(alias=kept, address="ann@on.example")
ds.domain_create(
    actor=None, name="off-relay.example", delivery="relay",
    transport="smtp:[mx.off-relay.example]:25", active=False,
)
ds.domain_create(actor=None, name="off-backup.example", delivery="backup", active=False)

ds.domain_create(actor=None, name="withpm.example")
mailbox("postmaster@withpm.example")
alias("abuse@withpm.example", "ann@on.example")
ds.domain_create(actor=None, name="catchall.example")
mailbox("cat@catchall.example")
alias("@catchall.example", "cat@catchall.example")

ds.domain_create(actor=None, name="BÜCHER.example")
mailbox("hans@bücher.example")
mailbox("old@bücher.example", active=False)
alias("info@bücher.example", "hans@bücher.example")
alias("@bücher.example", "hans@bücher.example")
ds.alias_domain_create(actor=None, name="münchen.example", target="bücher.example")
ds.domain_create(
    actor=None, name="bücher-relay.example", delivery="relay", transport="smtp:[mx.example]"
)
RelayRecipient.objects.create(
    domain=Domain.objects.get(name="xn--bcher-relay-thb.example"), local_part="gus"
)

ds.domain_create(
    actor=None, name="listed.example", delivery="relay", transport="smtp:[mx.listed.example]"
)
RelayRecipient.objects.create(domain=Domain.objects.get(name="listed.example"), local_part="lu")
ds.domain_create(
    actor=None, name="open.example", delivery="relay", transport="smtp:[mx.open.example]"
)
Domain.objects.filter(name="open.example").update(relay_accept_any=True)
ds.domain_create(actor=None, name="backup.example", delivery="backup")
RelayRecipient.objects.create(domain=Domain.objects.get(name="backup.example"), local_part="bo")
listed = Domain.objects.get(name="listed.example")
AliasDomain.objects.create(name="to-relay.example", target=listed)
AliasDomain.objects.create(name="off-to-relay.example", target=listed, active=False)
"""


# Roles of their own: roles.sql sets the passwords of the roles it names, and the scenario
# worlds of the same session must keep theirs.
_ID = uuid.uuid4().hex[:8]
ROLES = (f"mailadmin_test_states_postfix_{_ID}", f"mailadmin_test_states_dovecot_{_ID}")


@pytest.fixture(scope="module")
def state_worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worlds]:
    registry = Worlds(tmp_path_factory.mktemp("states"), build=STATES, roles=ROLES)
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture(scope="module", params=DIALECTS)
def states(request: pytest.FixtureRequest, state_worlds: Worlds) -> World:
    return state_worlds.get(request.param)


# --- 1. a disabled domain stays ours and refuses -------------------------------------------------


@pytest.mark.parametrize(
    ("table", "domain"),
    [
        ("virtual_mailbox_domains", "off.example"),
        ("virtual_alias_domains", "off-target.example"),  # alias domain of a disabled domain
        ("virtual_alias_domains", "off-alias.example"),  # disabled alias domain
        ("relay_domains", "off-relay.example"),
        ("relay_domains", "off-backup.example"),
    ],
)
def test_a_disabled_domain_stays_in_its_address_class(
    states: World, table: str, domain: str
) -> None:
    """Out of every class it would be "not ours", and mynetworks and SASL clients relay it."""
    assert states.lookup(table, domain) == domain


@pytest.mark.parametrize(
    "address",
    [
        "bea@off.example",  # an active mailbox of a disabled domain
        "info@off.example",
        "nobody@off.example",
        "ann@off-alias.example",
        "bea@off-target.example",
        "anyone@off-relay.example",
        "anyone@off-backup.example",
    ],
)
def test_recipient_access_refuses_every_address_of_a_disabled_domain(
    states: World, address: str
) -> None:
    assert states.lookup("recipient_access", address) == DOMAIN_DISABLED


@pytest.mark.parametrize(
    "address",
    [
        "ann@on.example",
        "ann@on-alias.example",
        "x@open.example",
        "kept@on.example",  # an active alias answers for the inactive mailbox
        "kept@on-alias.example",
        "lu@to-relay.example",
    ],
)
def test_recipient_access_lets_active_domains_through(states: World, address: str) -> None:
    assert states.lookup("recipient_access", address) is None


@pytest.mark.parametrize(
    ("address", "action"),
    [
        ("gone@on.example", MAILBOX_DISABLED),
        ("gone@on-alias.example", MAILBOX_DISABLED),
        ("gone@off-alias.example", DOMAIN_DISABLED),
        ("lu@off-to-relay.example", DOMAIN_DISABLED),
    ],
)
def test_recipient_access_refuses_an_inactive_mailbox_once(
    states: World, address: str, action: str
) -> None:
    """One action a key, whichever of the domain's and the mailbox's states refuses it."""
    assert states.lookup("recipient_access", address) == action


def test_pgsql_functions_answer_the_states_as_the_views(
    state_worlds: Worlds, tmp_path: Path
) -> None:
    """The ordered probes (probes.py) against their views on disabled domains, alias domains
    of every state, inactive mailboxes with and without an alias, U-labels and relay lists."""
    world = state_worlds.get("pgsql")
    assert_functions_answer_as_views(world, tmp_path, quiet=())


def test_a_disabled_domain_has_no_mailbox_alias_or_login(states: World) -> None:
    for table in (
        "virtual_mailbox_maps",
        "virtual_uid_maps",
        "virtual_gid_maps",
        "virtual_alias_maps",
        "smtpd_sender_login_maps",
    ):
        assert states.lookup(table, "bea@off.example") is None, table
    assert states.lookup("virtual_alias_catchall_maps", "@off.example") is None
    assert states.lookup("virtual_alias_maps", "ann@off-alias.example") is None
    assert states.lookup("transport_maps", "off-relay.example") == "smtp:[mx.off-relay.example]:25"


# --- 2. SMTPUTF8: a U-label finds its A-label's rows -------------------------------------------


@pytest.mark.parametrize("key", ["bücher.example", "BÜCHER.EXAMPLE"])
def test_a_u_label_is_a_hosted_domain(states: World, key: str) -> None:
    """postmap folds the key as smtpd does (BÜCHER -> bücher) before the query sees it."""
    assert states.lookup("virtual_mailbox_domains", key) == IDN
    assert states.lookup("virtual_mailbox_domains", IDN) == IDN


def test_u_label_keys_answer_as_their_a_label(states: World) -> None:
    def both(table: str, local: str, domain: str, unicode_domain: str) -> str | None:
        answer = states.lookup(table, f"{local}{domain}")
        assert states.lookup(table, f"{local}{unicode_domain}") == answer, (table, local)
        return answer

    assert both("virtual_alias_maps", "hans@", IDN, "bücher.example") == f"hans@{IDN}"
    assert both("virtual_alias_maps", "info@", IDN, "bücher.example") == f"hans@{IDN}"
    assert both("virtual_alias_catchall_maps", "@", IDN, "bücher.example") == f"hans@{IDN}"
    assert both("virtual_mailbox_maps", "hans@", IDN, "bücher.example") == f"{IDN}/hans/"
    assert both("virtual_uid_maps", "hans@", IDN, "bücher.example") is not None
    assert both("virtual_gid_maps", "hans@", IDN, "bücher.example") is not None
    assert both("smtpd_sender_login_maps", "hans@", IDN, "bücher.example") == f"hans@{IDN}"
    assert both("recipient_access", "old@", IDN, "bücher.example") == MAILBOX_DISABLED
    # The alias domain münchen.example, by either name.
    assert both("virtual_alias_domains", "", IDN_ALIAS, "münchen.example") == IDN_ALIAS
    assert both("virtual_alias_maps", "hans@", IDN_ALIAS, "münchen.example") == f"hans@{IDN}"
    assert both("smtpd_sender_login_maps", "hans@", IDN_ALIAS, "münchen.example") == (f"hans@{IDN}")
    relay = "xn--bcher-relay-thb.example"
    assert both("relay_domains", "", relay, "bücher-relay.example") == relay
    assert both("transport_maps", "", relay, "bücher-relay.example") == "smtp:[mx.example]"
    assert both("relay_recipient_maps", "gus@", relay, "bücher-relay.example") == relay


def test_a_u_label_of_an_unknown_domain_is_not_ours(states: World) -> None:
    for table in ("virtual_mailbox_domains", "virtual_alias_domains", "relay_domains"):
        assert states.lookup(table, "bücherei.example") is None


# --- 3. postmaster@ and abuse@ of every hosted domain ------------------------------------------


@pytest.mark.parametrize(
    ("address", "answer"),
    [
        ("postmaster@on.example", SERVER_POSTMASTER),  # nothing set up: the server's postmaster
        ("abuse@on.example", SERVER_POSTMASTER),
        ("postmaster@on-alias.example", SERVER_POSTMASTER),
        (f"postmaster@{IDN}", None),  # its catch-all takes it (next key), as the admin chose
        ("postmaster@bücher.example", None),
        ("postmaster@withpm.example", "postmaster@withpm.example"),  # its own mailbox
        ("abuse@withpm.example", "ann@on.example"),  # its own alias
        ("postmaster@off.example", None),  # disabled: refused by recipient_access
        ("hostmaster@on.example", None),
    ],
)
def test_role_addresses_of_every_hosted_domain(
    states: World, address: str, answer: str | None
) -> None:
    assert states.lookup("virtual_alias_maps", address) == answer


def test_a_catch_all_still_takes_the_role_addresses(states: World) -> None:
    assert states.lookup("virtual_alias_maps", "postmaster@catchall.example") is None
    assert states.lookup("virtual_alias_catchall_maps", "@catchall.example") == (
        "cat@catchall.example"
    )


# --- 4. relay recipient lists ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "answer"),
    [
        ("lu@listed.example", "listed.example"),
        ("LU@listed.example", "listed.example"),
        ("other@listed.example", None),
        ("anyone@open.example", "open.example"),  # relay_accept_any
        ("bo@backup.example", "backup.example"),
        ("other@backup.example", None),
        ("anyone@off-relay.example", None),  # disabled: recipient_access refuses it first
        ("ann@on.example", None),
        ("@open.example", None),  # Postfix's second key has no %u: never sent
    ],
)
def test_relay_recipient_maps(states: World, address: str, answer: str | None) -> None:
    assert states.lookup("relay_recipient_maps", address) == answer


# --- every lookup stays indexed ------------------------------------------------------------------


def _plan_nodes(plan: dict[str, object]) -> Iterator[dict[str, object]]:
    yield plan
    for child in plan.get("Plans", []):  # type: ignore[attr-defined]
        yield from _plan_nodes(child)


@pytest.mark.parametrize(
    "table",
    ["virtual_mailbox_domains", "virtual_alias_maps", "recipient_access", "relay_recipient_maps"],
)
def test_the_u_label_mapping_is_an_index_probe(state_worlds: Worlds, table: str) -> None:
    """The generic plan of a lookup (as the PL/pgSQL function runs it) reads the domain
    tables through their indexes only, the U-label's unique index included."""
    import psycopg

    from mailadmin.contract.queries import POSTFIX_QUERIES
    from mailadmin.contract.trace import expand_query

    world = state_worlds.get("pgsql")
    sql, _params, _suppressed = expand_query(POSTFIX_QUERIES[table], "hans@bücher.example")
    numbered = sql
    for number in range(1, sql.count("%s") + 1):
        numbered = numbered.replace("%s", f"${number}", 1)
    types = ", ".join("text" for _ in range(sql.count("%s")))
    with psycopg.connect(world.db.url, autocommit=True) as conn:
        conn.execute("ANALYZE")
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute("SET enable_seqscan = off")
        conn.execute(f"PREPARE lookup({types}) AS {numbered}")
        arguments = ", ".join("'x'" for _ in range(sql.count("%s")))
        row = conn.execute(f"EXPLAIN (FORMAT JSON) EXECUTE lookup({arguments})").fetchone()
    assert row is not None
    nodes = list(_plan_nodes(row[0][0]["Plan"]))
    domain_tables = {"domains_domain", "domains_aliasdomain"}
    scans = [node for node in nodes if node.get("Relation Name") in domain_tables]
    assert scans
    assert not [node for node in scans if node["Node Type"] == "Seq Scan"], scans
    indexes = {node.get("Index Name") for node in scans}
    assert any("unicode_key" in str(name) for name in indexes), indexes
