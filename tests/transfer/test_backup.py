"""`manage.py backup` and `manage.py restore` round-trip losslessly into an empty database, on
every dialect, and a restore never lands on top of existing data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.contract.scenario import BUILD
from tests.support import ContractDB, create_contract_db, drop_contract_db

EXTRA = """
from django.contrib.auth.models import Group, Permission, User
from domains.models import Domain
root = User.objects.create_superuser("root", "root@example.net", "x" * 12)
admin = User.objects.create_user("dadmin", "d@example.net", "y" * 12, first_name="Dana")
group = Group.objects.create(name="helpdesk")
group.permissions.add(Permission.objects.get(codename="view_domain"))
admin.groups.add(group)
Domain.objects.get(name="example.com").admins.add(admin)
from domains import relay
relay_domain = Domain.objects.get(name="relay.example")
relay.relay_recipient_add(actor=None, domain=relay_domain, local_part="info")
Domain.objects.filter(name="backup.example").update(relay_accept_any=True)
# Sub-millisecond timestamps: Django's own JSON encoder would cut them to .000 (and a second
# backup would then print no fraction at all).
import datetime
Domain.objects.filter(name="example.com").update(
    created_at=datetime.datetime(2026, 1, 2, 3, 4, 5, 500, tzinfo=datetime.timezone.utc)
)
"""


def _objects(db: ContractDB, path: Path) -> list[dict[str, object]]:
    db.manage("backup", "--out", str(path))
    assert path.stat().st_mode & 0o777 == 0o600  # it holds password hashes
    data = json.loads(path.read_text())
    assert data["format"] == "mailadmin-backup" and data["version"] == 2
    return data["objects"]


@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
def test_backup_restores_losslessly_into_an_empty_database(dialect: str, tmp_path: Path) -> None:
    source = create_contract_db(dialect, tmp_path)
    target = None
    try:
        source.python(BUILD + EXTRA)
        first = _objects(source, tmp_path / "first.json")
        models = {item["model"] for item in first}
        assert {
            "auth.user",
            "auth.group",
            "domains.domain",
            "domains.aliasdomain",
            "domains.serversettings",
            "mailboxes.mailbox",
            "mailboxes.alias",
            "mailboxes.aliasdestination",
            "domains.relayrecipient",
        } <= models
        (tmp_path / "target").mkdir()
        target = create_contract_db(dialect, tmp_path / "target")
        result = target.manage("restore", str(tmp_path / "first.json"))
        assert f"{len(first)} objects restored" in result.stdout
        assert _objects(target, tmp_path / "second.json") == first
        stamps = {
            fields["name"]: fields["created_at"]
            for item in first
            if item["model"] == "domains.domain" and isinstance(fields := item["fields"], dict)
        }
        assert stamps["example.com"] == "2026-01-02T03:04:05.000500Z"
        # New rows after a restore get fresh primary keys (sequences follow the data).
        target.manage("domain", "add", "after.example")
        # A second restore would land on data: refused, nothing changed.
        again = target.manage("restore", str(tmp_path / "first.json"), check=False)
        assert again.returncode != 0 and "not empty" in again.stderr
    finally:
        drop_contract_db(source)
        if target is not None:
            drop_contract_db(target)


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    db = create_contract_db("sqlite", tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"model": "domains.domain", "pk": 1, "fields": {}}]')
    result = db.manage("restore", str(bad), check=False)
    assert result.returncode != 0 and "not a mailadmin-backup file" in result.stderr
