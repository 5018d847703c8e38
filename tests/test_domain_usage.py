"""DomainUsage: the trigger-kept mailbox and alias counts and allocated quota of each domain.

Run on each dialect in a freshly migrated database of its own (the triggers differ: statement
level with transition tables on PostgreSQL, row level on MariaDB and SQLite), with every kind
of write the project makes: services, bulk_create, queryset update and delete, raw SQL, and a
domain deleted with everything in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support import ContractDB, create_contract_db, drop_contract_db

# Run inside the dialect's database; prints {domain: [mailboxes, aliases, quota]} and the drift
# after each step.
WRITES = r"""
import json
from django.db import connection, transaction
from domains import services as ds
from domains.models import Domain, DomainUsage
from domains.selectors import usage_drift
from mailboxes import services as ms
from mailboxes.models import Alias, Mailbox

G = 1024 ** 3
HASH = "{SHA512-CRYPT}$6$salt$hash"
steps = {}

def snapshot(step):
    rows = DomainUsage.objects.select_related("domain").order_by("domain__name")
    steps[step] = {
        "usage": {u.domain.name: [u.mailboxes, u.aliases, u.quota_allocated] for u in rows},
        "drift": usage_drift(),
    }

ds.domain_create(actor=None, name="a.example")
ds.domain_create(actor=None, name="b.example")
snapshot("domains")
for name in ("ann", "bob", "cid"):
    ms.mailbox_create(actor=None, address=f"{name}@a.example", password_hash=HASH, quota=G)
ms.mailbox_create(actor=None, address="dan@b.example", password_hash=HASH)
ms.alias_create(actor=None, address="team@a.example", destinations=["ann@a.example"])
ms.alias_create(actor=None, address="@a.example", destinations=["bob@a.example"])
snapshot("services")

bob = Mailbox.objects.get(local_part="bob")
ms.mailbox_update(actor=None, mailbox=bob, quota=3 * G)
ms.mailbox_set_active(actor=None, mailbox=bob, active=False)  # changes no counter
Mailbox.objects.filter(local_part="ann").update(quota=0)
snapshot("quota")

a = Domain.objects.get(name="a.example")
Mailbox.objects.bulk_create(
    Mailbox(domain=a, local_part=f"bulk{i}", password=HASH, quota=G, path=f"a.example/bulk{i}/")
    for i in range(50)
)
Alias.objects.bulk_create(Alias(domain=a, local_part=f"list{i}") for i in range(20))
snapshot("bulk")

b = Domain.objects.get(name="b.example")
Mailbox.objects.filter(local_part__in=["bulk0", "bulk1"]).update(domain=b)  # moved, quota too
Alias.objects.filter(local_part__startswith="list").delete()
ms.mailbox_delete(actor=None, mailbox=Mailbox.objects.get(local_part="cid"))
snapshot("moved_and_deleted")

with connection.cursor() as cursor:
    cursor.execute(
        "INSERT INTO mailboxes_mailbox (domain_id, local_part, name, password, quota, format,"
        " path, active, panel_login_enabled, must_change_password, created_at, updated_at)"
        " VALUES (%s, 'raw', '', %s, 7, 'maildir', 'b.example/raw/', TRUE, TRUE, FALSE,"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        [b.pk, HASH],
    )
snapshot("raw_sql")

try:
    with transaction.atomic():
        Mailbox.objects.filter(domain=b).delete()
        raise RuntimeError("rolled back")
except RuntimeError:
    pass
snapshot("rolled_back")

ds.domain_delete(actor=None, domain=a)
snapshot("domain_deleted")

# The check itself: counters set wrong by hand (and one row gone) are found, each kind once.
for name in ("c.example", "d.example", "e.example", "f.example"):
    ds.domain_create(actor=None, name=name)
DomainUsage.objects.filter(domain__name="c.example").update(mailboxes=5)
DomainUsage.objects.filter(domain__name="d.example").update(aliases=1)
DomainUsage.objects.filter(domain__name="e.example").update(quota_allocated=1)
DomainUsage.objects.filter(domain__name="f.example").delete()
steps["corrupted"] = {"drift": usage_drift()}
print(json.dumps(steps))
"""

G = 1024**3


@pytest.fixture(scope="module", params=["pgsql", "mysql", "sqlite"])
def steps(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    db: ContractDB = create_contract_db(request.param, tmp_path_factory.mktemp("usage"))
    try:
        result = db.python(WRITES)
        yield json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        drop_contract_db(db)


def test_every_step_matches_a_recount(steps: dict) -> None:
    drift = {step: state["drift"] for step, state in steps.items() if step != "corrupted"}
    assert drift == {step: [] for step in drift}


def test_the_recount_finds_each_kind_of_drift(steps: dict) -> None:
    assert steps["corrupted"]["drift"] == ["c.example", "d.example", "e.example", "f.example"]


def test_counters_follow_each_kind_of_write(steps: dict) -> None:
    usage = {step: state["usage"] for step, state in steps.items() if "usage" in state}
    assert usage["domains"] == {"a.example": [0, 0, 0], "b.example": [0, 0, 0]}
    assert usage["services"] == {"a.example": [3, 2, 3 * G], "b.example": [1, 0, 0]}
    # bob 1G -> 3G, ann 1G -> 0 (no limit); deactivating bob counts nothing.
    assert usage["quota"]["a.example"] == [3, 2, 4 * G]
    assert usage["bulk"]["a.example"] == [53, 22, 54 * G]
    # Two bulk mailboxes (1G each) moved to b.example, the 20 list aliases and cid (1G) gone.
    assert usage["moved_and_deleted"] == {"a.example": [50, 2, 51 * G], "b.example": [3, 0, 2 * G]}
    assert usage["raw_sql"]["b.example"] == [4, 0, 2 * G + 7]
    assert usage["rolled_back"] == usage["raw_sql"]
    assert usage["domain_deleted"] == {"b.example": [4, 0, 2 * G + 7]}
