"""PostfixAdmin's admins through the accounts services: every account created and every domain
granted by the migration has its audit entry, by the operator (actor None) and labelled as the
PostfixAdmin import. The end-to-end migration is tests/transfer/test_postfixadmin.py."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.services import admin_create
from audit.models import AuditEntry
from tests import factories as f
from transfer.postfixadmin import PfaData, migrate
from transfer.postfixadmin.admins import AUDIT_LABEL

pytestmark = pytest.mark.django_db

User = get_user_model()


def _entries() -> list[tuple[str, str, str]]:
    rows = AuditEntry.objects.filter(object_type="user").order_by("id")
    return [(e.action, e.object_repr, e.domain) for e in rows]


def _data(admins: list[dict], domain_admins: list[dict], domains: tuple[str, ...] = ()) -> PfaData:
    return PfaData(
        {
            "domain": [{"domain": name} for name in domains],
            "admin": admins,
            "domain_admins": domain_admins,
        }
    )


def test_each_admin_and_grant_has_one_entry_by_the_import() -> None:
    data = _data(
        [
            {"username": "root@a.test", "superadmin": 1, "active": 1},
            {"username": "dadmin@a.test", "superadmin": 0, "active": 1},
        ],
        [
            {"username": "dadmin@a.test", "domain": "a.test"},
            {"username": "dadmin@a.test", "domain": "B.test"},
            {"username": "dadmin@a.test", "domain": "gone.test"},
        ],
        domains=("a.test", "b.test"),
    )
    report = migrate(data)
    assert report.imported["admin"] == 2
    assert report.imported["domain grant"] == 2
    assert ("admin dadmin@a.test of gone.test", "that domain was not imported") in report.skipped
    assert _entries() == [
        ("create", "root@a.test", ""),
        ("create", "dadmin@a.test", ""),
        ("grant", "dadmin@a.test", "a.test"),
        ("grant", "dadmin@a.test", "b.test"),
    ]
    entries = AuditEntry.objects.filter(object_type="user")
    assert {(e.actor_id, e.actor_label) for e in entries} == {(None, AUDIT_LABEL)}
    created = entries.get(action="create", object_repr="dadmin@a.test")
    assert created.changes == {"superadmin": False, "active": True, "domains": ["a.test", "b.test"]}
    assert not User.objects.get(username="dadmin@a.test").has_usable_password()
    # A second run finds everything in place and writes nothing.
    assert migrate(data).imported["admin"] == 0
    assert len(_entries()) == 4


def test_an_existing_admin_gets_only_the_missing_grant_audited() -> None:
    a, b = f.domain("a.test"), f.domain("b.test")
    user = f.domain_admin("dadmin@a.test", a)
    AuditEntry.objects.all().delete()
    data = _data(
        [{"username": "dadmin@a.test", "superadmin": 0}],
        [
            {"username": "dadmin@a.test", "domain": "a.test"},
            {"username": "dadmin@a.test", "domain": "b.test"},
        ],
    )
    report = migrate(data)
    assert (report.imported["admin"], report.imported["domain grant"]) == (0, 1)
    assert set(user.administered_domains.all()) == {a, b}
    assert _entries() == [("grant", "dadmin@a.test", "b.test")]
    assert AuditEntry.objects.get(object_type="user").actor_label == AUDIT_LABEL


def test_an_admin_without_imported_domains_is_kept_as_it_was() -> None:
    data = _data(
        [{"username": "ghost@a.test", "superadmin": 0, "active": 0}],
        [{"username": "ghost@a.test", "domain": "gone.test"}],
    )
    migrate(data)
    ghost = User.objects.get(username="ghost@a.test")
    assert (ghost.is_active, ghost.is_superuser, ghost.administered_domains.count()) == (
        False,
        False,
        0,
    )
    assert _entries() == [("create", "ghost@a.test", "")]


def test_an_admin_our_rules_refuse_is_reported_and_the_rest_imported() -> None:
    data = _data(
        [
            {"username": "bad name@a.test", "superadmin": 1},
            {"username": "root@a.test", "superadmin": 1},
        ],
        [],
    )
    report = migrate(data)
    assert [what for what, _why in report.skipped] == ["admin bad name@a.test"]
    assert list(User.objects.values_list("username", flat=True)) == ["root@a.test"]
    assert _entries() == [("create", "root@a.test", "")]


def test_a_dry_run_leaves_no_account_and_no_entry() -> None:
    data = _data([{"username": "root@a.test", "superadmin": 1}], [])
    assert migrate(data, dry_run=True).imported["admin"] == 1
    assert not User.objects.exists()
    assert not AuditEntry.objects.exists()


# --- the service options the migration uses -----------------------------------------------------


def test_admin_create_stores_a_given_hash_as_it_is() -> None:
    user, generated = admin_create(
        actor=None, username="root", superadmin=True, password_hash="!unusable"
    )
    user.refresh_from_db()
    assert (user.password, generated) == ("!unusable", None)


def test_admin_create_takes_a_password_or_a_hash_not_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        admin_create(
            actor=None, username="root", superadmin=True, password="x" * 20, password_hash="!x"
        )
    assert not User.objects.exists()
