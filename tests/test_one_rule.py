"""One home for each rule of a mailbox, alias or domain write (mailboxes/rules.py).

The services, the CSV import and the owner's self-service apply the same checks with the same
messages, and the limit checks read the trigger-kept DomainUsage counters
(domains/usage_triggers.py) under the domain lock instead of counting rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from domains import services as ds
from domains.models import Domain
from mailadmin import passwords
from mailboxes import services as ms
from mailboxes.models import Alias, Mailbox
from selfservice.services import owner_set_forwarding
from tests import factories as f
from transfer.csvformat import CsvFile
from transfer.importer import Importer, ImportRejected

pytestmark = pytest.mark.django_db

HASH = "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"
GIB = 1024**3
HEADER = "type,name,password,quota,format,maildir,destinations,target,delivery\n"


def csv(*rows: str) -> bytes:
    """HEADER and `rows`, each filled up with empty cells to the header's width."""
    width = HEADER.count(",")
    return (HEADER + "".join(row + "," * (width - row.count(",")) + "\n" for row in rows)).encode()


def import_reason(row: str) -> str:
    """The one reason the import gives for the single row of a file (line 2)."""
    report = Importer(CsvFile(data=csv(row)), actor=None).validate()
    reasons = {problem.line: problem.reason for problem in report.errors}
    assert list(reasons) == [2], reasons
    return reasons[2]


def service_message(call: Callable[..., Any], **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as info, transaction.atomic():
        call(actor=None, **kwargs)
    messages = info.value.messages
    assert len(messages) == 1, messages
    return messages[0]


@pytest.fixture
def world() -> None:
    f.domain("ok.example")
    f.domain("count.example", max_mailboxes=1)
    f.mailbox("a@count.example")
    f.domain("quota.example", max_mailbox_quota=2 * GIB, total_quota=3 * GIB)
    f.mailbox("a@quota.example")
    f.domain("total.example", total_quota=GIB)
    f.domain("aliases.example", max_aliases=1)
    f.alias("x@aliases.example", "a@count.example")
    f.domain("relay.example", delivery="relay", transport="smtp:[mx.example.net]:25")
    ds.alias_domain_create(actor=None, name="ad.example", target="ok.example")
    ds.alias_domain_grant_create(
        actor=None, name="granted.example", domain=Domain.objects.get(name="ok.example")
    )
    Importer(
        CsvFile(data=csv(f"mailbox,old@ok.example,{HASH},,,ok.example/legacy/")),
        actor=None,
    ).commit()


MAILBOX = ms.mailbox_create
ALIAS = ms.alias_create
CASES = [
    # (service call, its arguments, the same thing as an import row)
    (MAILBOX, {"address": "b@count.example"}, f"mailbox,b@count.example,{HASH},,,"),
    (
        MAILBOX,
        {"address": "b@quota.example", "quota": 3 * GIB},
        f"mailbox,b@quota.example,{HASH},3G,,",
    ),
    (
        MAILBOX,
        {"address": "b@quota.example", "quota": 2 * GIB},
        f"mailbox,b@quota.example,{HASH},2G,,",
    ),
    (MAILBOX, {"address": "b@total.example", "quota": 0}, f"mailbox,b@total.example,{HASH},0,,"),
    (
        MAILBOX,
        {"address": "b@ok.example", "password_hash": "{NOPE}x"},
        "mailbox,b@ok.example,{NOPE}x,,,",
    ),
    (MAILBOX, {"address": "b@ok.example", "password": "short"}, "mailbox,b@ok.example,short,,,"),
    (
        MAILBOX,
        {"address": "b@ok.example", "storage_format": "mdir"},
        f"mailbox,b@ok.example,{HASH},,mdir,",
    ),
    (MAILBOX, {"address": "b@relay.example"}, f"mailbox,b@relay.example,{HASH},,,"),
    (MAILBOX, {"address": "a@count.example"}, f"mailbox,a@count.example,{HASH},,,"),
    (MAILBOX, {"address": "legacy@ok.example"}, f"mailbox,legacy@ok.example,{HASH},,,"),
    (
        ALIAS,
        {"address": "y@aliases.example", "destinations": ["a@count.example"]},
        "alias,y@aliases.example,,,,,a@count.example",
    ),
    (
        ALIAS,
        {"address": "x@aliases.example", "destinations": ["a@count.example"]},
        "alias,x@aliases.example,,,,,a@count.example",
    ),
    (
        ALIAS,
        {"address": "me@ok.example", "destinations": ["me@ok.example"]},
        "alias,me@ok.example,,,,,me@ok.example",
    ),
    (ALIAS, {"address": "none@ok.example", "destinations": []}, "alias,none@ok.example,,,,,"),
    (ds.domain_create, {"name": "ok.example"}, "domain,ok.example"),
    (ds.domain_create, {"name": "ad.example"}, "domain,ad.example"),
    (ds.domain_create, {"name": "granted.example"}, "domain,granted.example"),
    (
        ds.domain_create,
        {"name": "r2.example", "delivery": "relay"},
        "domain,r2.example,,,,,,,relay",
    ),
    (ds.domain_create, {"name": "r3.example", "delivery": "nope"}, "domain,r3.example,,,,,,,nope"),
    (
        ds.alias_domain_create,
        {"name": "n.example", "target": "relay.example"},
        "aliasdomain,n.example,,,,,,relay.example",
    ),
    (
        ds.alias_domain_create,
        {"name": "count.example", "target": "ok.example"},
        "aliasdomain,count.example,,,,,,ok.example",
    ),
]


@pytest.mark.parametrize(("call", "kwargs", "row"), CASES, ids=[c[2] for c in CASES])
def test_the_import_says_what_the_service_says(world, call, kwargs, row) -> None:
    """The same refusal, with the same message: the import only names the CSV column."""
    if call is MAILBOX:
        kwargs = {"password": "long enough pw", **kwargs}
    expected = service_message(call, **kwargs)
    reason = import_reason(row)
    assert reason == expected or reason.endswith(f": {expected}"), (reason, expected)


def test_a_name_granted_as_an_alias_domain_is_no_new_domain_by_import(world) -> None:
    with pytest.raises(ImportRejected) as info:
        Importer(CsvFile(data=b"type,name\ndomain,granted.example\n"), actor=None).commit()
    assert "granted.example is allowed as an alias domain of ok.example" in (
        info.value.report.errors[0].reason
    )


def _sql(captured: CaptureQueriesContext) -> str:
    return " ".join(query["sql"] for query in captured.captured_queries).upper()


@pytest.mark.parametrize(
    "write",
    [
        lambda: ms.mailbox_create(actor=None, address="b@lim.example", password=f.PASSWORD),
        lambda: ms.mailbox_update(
            actor=None, mailbox=Mailbox.objects.get(local_part="a"), quota=GIB
        ),
        lambda: ms.alias_create(actor=None, address="y@lim.example", destinations=["a@x.example"]),
    ],
    ids=["mailbox_create", "mailbox_update", "alias_create"],
)
def test_limit_checks_read_the_usage_counters(write) -> None:
    f.domain(
        "lim.example", max_mailboxes=5, max_aliases=5, max_mailbox_quota=GIB, total_quota=9 * GIB
    )
    f.mailbox("a@lim.example")
    f.alias("x@lim.example", "a@lim.example")
    with CaptureQueriesContext(connection) as captured:
        write()
    sql = _sql(captured)
    assert "DOMAINS_DOMAINUSAGE" in sql
    assert "COUNT(" not in sql and "SUM(" not in sql


def test_the_import_reads_the_usage_counters() -> None:
    f.domain("lim.example", max_mailboxes=5, total_quota=9 * GIB)
    f.mailbox("a@lim.example", quota=GIB)
    with CaptureQueriesContext(connection) as captured:
        importer = Importer(CsvFile(data=csv(f"mailbox,b@lim.example,{HASH},1G")), actor=None)
        assert importer.commit().committed
    sql = _sql(captured)
    assert "DOMAINS_DOMAINUSAGE" in sql
    assert "COUNT(" not in sql and "SUM(" not in sql


def test_the_owner_and_the_admin_share_the_domains_last_alias(world) -> None:
    """A forwarding is an alias: whoever takes the domain's last place, the other is refused
    by the same rule."""
    ds.domain_update(actor=None, domain=Domain.objects.get(name="ok.example"), max_aliases=2)
    owner = f.mailbox("john@ok.example")
    f.alias("sales@ok.example", "john@ok.example")
    owner_set_forwarding(mailbox=owner, destinations=["a@elsewhere.net"], keep_copy=True)
    message = service_message(ALIAS, address="more@ok.example", destinations=["a@x.example"])
    assert message == "ok.example already has its maximum of 2 aliases."
    owner_set_forwarding(mailbox=owner, destinations=[], keep_copy=True)
    f.alias("more@ok.example", "a@x.example")
    with pytest.raises(ValidationError, match="limit of 2 aliases"):
        owner_set_forwarding(mailbox=owner, destinations=["a@elsewhere.net"], keep_copy=True)
    assert not Alias.objects.filter(local_part="john").exists()


def test_the_forwarding_alias_is_an_alias_of_the_alias_services(world) -> None:
    owner = f.mailbox("john@ok.example")
    owner_set_forwarding(mailbox=owner, destinations=["a@elsewhere.net"], keep_copy=False)
    alias = Alias.objects.get(domain__name="ok.example", local_part="john")
    # An admin edits it as any alias; the owner sees the admin's change.
    ms.alias_set_destinations(actor=None, alias=alias, destinations=["b@elsewhere.net"])
    state = owner_set_forwarding(mailbox=owner, destinations=["c@elsewhere.net"], keep_copy=True)
    assert (state.destinations, state.keep_copy) == (["c@elsewhere.net"], True)


def test_the_owners_password_rehash_is_audited_under_the_owners_address(world) -> None:
    legacy = passwords.hash_password("Mellow-Harbour-42", "SHA512-CRYPT")
    f.mailbox("oldhash@ok.example", password=None, password_hash=legacy)
    response = Client().post(
        "/me/login/", {"address": "oldhash@ok.example", "password": "Mellow-Harbour-42"}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="rehash")
    assert (entry.actor, entry.actor_label) == (None, "oldhash@ok.example")
    assert entry.changes == {"scheme": ["SHA512-CRYPT", "ARGON2ID"]}
