"""The panel's searches find text in any case on every database: MariaDB's tables are
utf8mb4_bin, under which a plain LIKE (Django's icontains there) is case-sensitive."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ContractDB, create_contract_db, drop_contract_db

SEARCHES = r"""
import json
from accounts import services as accounts
from accounts.selectors import admins
from audit.selectors import audit_list
from domains import services as domains
from domains.selectors import domain_list
from mailboxes import services as mailboxes
from mailboxes.selectors import alias_list, mailbox_list

HASH = "{SHA512-CRYPT}$6$salt$hash"
domains.domain_create(actor=None, name="shop.example", description="Main Shop")
domains.domain_create(actor=None, name="other.example")
mailboxes.mailbox_create(
    actor=None, address="anna@shop.example", password_hash=HASH, name="Anna Apfel"
)
mailboxes.mailbox_create(actor=None, address="bob@shop.example", password_hash=HASH)
mailboxes.alias_create(actor=None, address="team@shop.example", destinations=["anna@shop.example"])
accounts.admin_create(
    actor=None, username="OpsLead", domains=["shop.example"], password="a long secret 123"
)

def addresses(rows):
    return sorted(row.address for row in rows)

found = {}
for term in ("apfel", "APFEL", "Apf"):
    found[f"mailbox {term}"] = addresses(mailbox_list(user=None, search=term))
for term in ("TEAM", "ANNA@SHOP"):
    found[f"alias {term}"] = addresses(alias_list(user=None, search=term))
for term in ("main shop", "MAIN"):
    found[f"domain {term}"] = [d.name for d in domain_list(user=None, search=term)]
found["admin opslead"] = [u.username for u in admins(search="opslead")]
found["audit SYST"] = sorted({e.actor_label for e in audit_list(user=None, actor="SYST")})
print(json.dumps(found))
"""


@pytest.fixture(scope="module", params=["pgsql", "mysql", "sqlite"])
def found(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    db: ContractDB = create_contract_db(request.param, Path(tmp_path_factory.mktemp("search")))
    try:
        yield json.loads(db.python(SEARCHES).stdout.strip().splitlines()[-1])
    finally:
        drop_contract_db(db)


def test_searches_ignore_case(found: dict) -> None:
    assert found == {
        "mailbox apfel": ["anna@shop.example"],
        "mailbox APFEL": ["anna@shop.example"],
        "mailbox Apf": ["anna@shop.example"],
        "alias TEAM": ["team@shop.example"],
        "alias ANNA@SHOP": ["team@shop.example"],
        "domain main shop": ["shop.example"],
        "domain MAIN": ["shop.example"],
        "admin opslead": ["OpsLead"],
        "audit SYST": ["system"],
    }
