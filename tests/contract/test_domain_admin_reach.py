"""Nothing a domain admin writes changes how Postfix or Dovecot resolve anything outside their
domains, judged through the exported maps by the real postmap and `doveadm user`.

The admin of a.test drives the panel (every form that writes, with the names and addresses of
another tenant, of a public provider and of names nobody hosts yet) and the CSV import (one file
per attack, confirmed when its check passes). Before and after, every exported Postfix table
answers the same for every probe key outside a.test, and Dovecot knows the same users there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.contract.conftest import export_maps, postmap_query_stdin
from tests.dovecot_harness import PrivateDovecot
from tests.support import ContractDB, create_contract_db, drop_contract_db, drop_roles, require_tool

pytestmark = pytest.mark.tools

_RUN_ID = uuid.uuid4().hex[:8]
ROLES = (f"mailadmin_reach_postfix_{_RUN_ID}", f"mailadmin_reach_dovecot_{_RUN_ID}")

SEED = """
from django.contrib.auth import get_user_model
from domains.services import alias_domain_create, domain_create
from mailboxes.services import alias_create, mailbox_create

a = domain_create(actor=None, name="a.test")
domain_create(actor=None, name="b.test")
domain_create(actor=None, name="relay.test", delivery="relay", transport="smtp:[127.0.0.1]:2525")
mailbox_create(actor=None, address="alice@a.test", password="alice-password-1")
mailbox_create(actor=None, address="bob@b.test", password="bob-password-1", uid=5001, gid=5001)
alias_create(actor=None, address="sales@b.test", destinations=["bob@b.test"])
alias_domain_create(actor=None, name="alias-b.test", target="b.test")
a.admins.add(get_user_model().objects.create_user(username="alice", password="x-unused-1"))
"""

# Probe keys outside a.test, for every table: addresses, catch-all keys and bare domains of
# the other tenant, its alias domain and subdomains, a relay domain, a public provider and a
# name nobody hosts.
OUTSIDE = [
    f"{local}{domain}"
    for domain in (
        "b.test",
        "alias-b.test",
        "lists.b.test",
        "relay.test",
        "sub.relay.test",
        "gmail.com",
        "new-unhosted.test",
    )
    for local in ("", "@", "bob@", "sales@", "spy@", "postmaster@", "x@")
]

DRIVE = r"""
import io, json, sys
from django.test.utils import setup_test_environment
setup_test_environment()
from django.contrib.auth import get_user_model
from django.test import Client
from transfer.models import ImportJob

client = Client()
client.force_login(get_user_model().objects.get(username="alice"))
done = []

def post(url, data):
    done.append([url, client.post(url, data).status_code])

foreign = ["gmail.com", "lists.b.test", "b.test", "alias-b.test", "new-unhosted.test"]
for name in foreign + ["x.a.test"]:
    post("/domains/a.test/alias-domains/new/", {"name": name})
    post("/domains/b.test/alias-domains/new/", {"name": name})
    post("/domains/a.test/alias-domains/grants/", {"name": name})
    post("/domains/new/", {"name": name, "delivery": "hosted"})
for domain in ("b.test", "alias-b.test", "a.test"):
    for local in ("spy", "bob", "postmaster"):
        mailbox = {"local_part": local, "password_mode": "generate", "quota": "0",
                   "storage_format": "maildir", "uid": "5001", "gid": "5001"}
        post(f"/domains/{domain}/mailboxes/new/", mailbox)
        alias = {"local_part": local, "destinations": "alice@a.test"}
        post(f"/domains/{domain}/aliases/new/", alias)
    post(f"/domains/{domain}/aliases/new/", {"catchall": "on", "destinations": "alice@a.test"})
post("/domains/b.test/edit/", {"description": "mine now", "active": "on"})
post("/domains/a.test/edit/", {"delivery": "relay", "transport": "smtp:[127.0.0.1]:25",
                               "uid": "5001", "gid": "5001"})

rows = [
    "domain,b.test,,,,",
    "domain,evil.test,,,,",
    "aliasdomain,gmail.com,,a.test,,",
    "aliasdomain,lists.b.test,,a.test,,",
    "aliasdomain,x.b.test,,b.test,,",
    "mailbox,spy@b.test,spy-password-1,,,",
    "mailbox,spy@alias-b.test,spy-password-1,,,",
    "mailbox,spy@a.test,spy-password-1,,a.test/spy:INBOX=/var/vmail/b.test/bob/,",
    "mailbox,spy@a.test,spy-password-1,,b.test/bob/,",
    "mailbox,spy@a.test,spy-password-1,,a.test/spy/,5001",
    "alias,@b.test,,alice@a.test,,",
    "alias,x@alias-b.test,,alice@a.test,,",
    "alias,postmaster@b.test,,alice@a.test,,",
]
for row in rows:
    text = "type,name,password,destinations,maildir,uid\n" + row + "\n"
    upload = io.BytesIO(text.encode())
    upload.name = "attack.csv"
    client.post("/transfer/", {"file": upload})
    job = ImportJob.objects.order_by("-pk").first()
    if job is not None:
        done.append([row, job.state, client.post(f"/transfer/jobs/{job.pk}/confirm/").status_code])
print(json.dumps(done))
"""


@dataclass
class Reach:
    db: ContractDB
    out: Path
    dovecot: PrivateDovecot

    def answers(self) -> dict[str, list[str]]:
        tables = sorted((self.out / "postfix").glob("*.cf"))
        assert len(tables) >= 8, tables
        found = {
            table.stem: postmap_query_stdin(f"{self.db.dialect}:{table}", OUTSIDE)
            for table in tables
        }
        found["dovecot"] = [
            f"{key} {self.dovecot.user(key)}"
            for key in OUTSIDE
            if "@" in key and not key.startswith("@")
        ]
        return found


@pytest.fixture(scope="module")
def reach(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reach]:
    require_tool("postmap")
    require_tool("doveadm")
    work = tmp_path_factory.mktemp("reach")
    db = create_contract_db("pgsql", work)
    try:
        db.python(SEED)
        out = work / "out"
        # Roles of its own: the session's belong to other worlds.
        export_maps(
            db,
            out,
            "--dovecot-dir",
            str(out / "dovecot"),
            "--sasl-socket",
            str(work / "sasl"),
            roles=ROLES,
        )
        db.execute_admin((out / "sql" / "roles.sql").read_text(encoding="utf-8"))
        dovecot = PrivateDovecot(
            work / "dovecot", includes=[out / "dovecot" / "auth-mailadmin.conf.ext"]
        )
        with dovecot:
            yield Reach(db, out, dovecot)
    finally:
        try:
            drop_roles(db, ROLES)
        finally:
            drop_contract_db(db)


def test_a_domain_admin_changes_nothing_outside_their_domains(reach: Reach) -> None:
    before = reach.answers()
    assert any(before.values()), "the probes found nothing: they would prove nothing"
    result = reach.db.python(DRIVE)
    attempts = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(attempts) == 60, attempts
    # No attempt broke the panel.
    assert all(500 not in item for item in attempts), attempts
    assert reach.answers() == before
    # The panel really wrote through these forms: the admin's own domain did change.
    own = postmap_query_stdin(
        f"pgsql:{reach.out / 'postfix' / 'virtual_alias_maps.cf'}", ["spy@a.test", "@a.test"]
    )
    assert own, attempts
