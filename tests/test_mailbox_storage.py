"""Where a mailbox's mail is written and as whom: one rule for every writer.

The services, the CSV import (as superadmin and as domain admin), the PostfixAdmin migration
and the restore of a backup all refuse a path that Dovecot would read as configuration, a path
outside the mailbox's own domain or address directory, a path that shares a directory with
another mailbox, and uid/gid from anyone but a superadmin. The database refuses the syntax
characters and shared paths itself. The same attack against the real Dovecot:
tests/contract/test_cross_tenant_paths.py.
"""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.models import AuditEntry
from domains.models import Domain
from mailboxes.models import Mailbox
from mailboxes.paths import check_path
from mailboxes.storage import path_conflict, stored_path_problems
from tests import factories as f
from transfer import backup
from transfer.csvformat import CsvFile
from transfer.importer import Importer, ImportRejected
from transfer.postfixadmin import PfaData, migrate

pytestmark = pytest.mark.django_db

HASH = "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"
HEADER = "type,name,password,maildir,uid,gid\n"
# The tester's file: a mailbox whose path carries Dovecot's INBOX= parameter into another
# domain's mailbox, with that mailbox's owner.
ATTACK = HEADER + f"mailbox,spy@a.test,{HASH},a.test/spy:INBOX=/var/vmail/b.test/bob/,5001,5001\n"


@pytest.fixture
def tenants():
    a = f.domain("a.test")
    b = f.domain("b.test")
    f.mailbox("bob@b.test", uid=5001, gid=5001)
    f.mailbox("victim@a.test")
    return f.domain_admin("alice", a), a, b


def import_errors(text: str, actor) -> dict[int, str]:
    before = Mailbox.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ImportRejected) as info:
        Importer(CsvFile(data=text.encode()), actor=actor).commit()
    assert (Mailbox.objects.count(), AuditEntry.objects.count()) == before
    return {p.line: p.reason for p in info.value.report.errors}


# --- the shape -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("a.test/spy/", "maildir"),  # canonical
        ("a.test/spy/mbox", "mbox"),  # canonical
        ("a.test/spy/Maildir/", "maildir"),  # deeper in its own home
        ("a.test/spy@a.test/", "maildir"),  # PostfixAdmin's domain/address/ layout
        ("spy@a.test/", "maildir"),  # PostfixAdmin's address/ layout
        ("a.test/s/p/spy/", "maildir"),  # hashed layouts
        ("a.test/Spy.Old-1_+=/", "maildir"),
    ],
)
def test_paths_a_mailbox_may_have(path: str, fmt: str) -> None:
    assert check_path(path, domain="a.test", local_part="spy", storage_format=fmt) == path


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("a.test/spy:INBOX=/var/vmail/b.test/bob/", "unsafe_path"),
        ("a.test/spy:INDEX=/tmp/x/", "unsafe_path"),
        ("a.test/%u/", "unsafe_path"),
        ("a.test/~/", "unsafe_path"),
        ("a.test/s p/", "unsafe_path"),
        ("a.test/s\tp/", "unsafe_path"),
        ("a.test/s\x00p/", "unsafe_path"),
        ("a.test/s,p/", "unsafe_path"),
        ("a.test/spÿ/", "unsafe_path"),
        ("a.test/spy", "path_format"),  # Maildir without the slash
        ("/var/vmail/a.test/spy/", "path_not_plain"),
        ("a.test//spy/", "path_not_plain"),
        ("a.test/../b.test/bob/", "path_not_plain"),
        ("a.test/./spy/", "path_not_plain"),
        ("b.test/bob/", "path_not_own"),  # another domain
        ("b.test/", "path_not_own"),
        ("a.test/", "path_not_own"),  # the domain directory itself
        ("bob@b.test/", "path_not_own"),  # another address's directory
        ("victim@a.test/", "path_not_own"),
        ("x/" * 201, "path_too_long"),
    ],
)
def test_paths_a_mailbox_may_not_have(path: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_path(path, domain="a.test", local_part="spy", storage_format="maildir")
    assert info.value.code == code


def test_an_mbox_file_may_be_the_home_as_postfixadmin_lays_it_out() -> None:
    path = "a.test/spy"
    assert check_path(path, domain="a.test", local_part="spy", storage_format="mbox") == path


# --- the CSV import --------------------------------------------------------------------------


def test_import_of_the_cross_tenant_path_is_refused(tenants) -> None:
    alice, _a, _b = tenants
    found = import_errors(ATTACK, alice)
    assert set(found) == {2}
    assert "“:” is not allowed in a mailbox path" in found[2]


def test_a_domain_admin_sets_no_uid_or_gid_by_import(tenants) -> None:
    alice, _a, _b = tenants
    found = import_errors(HEADER + f"mailbox,spy@a.test,{HASH},,5001,\n", alice)
    assert found == {2: "Only a superadmin can set a mailbox's uid or gid."}
    found = import_errors(HEADER + f"mailbox,spy@a.test,{HASH},,,5001\n", alice)
    assert found == {2: "Only a superadmin can set a mailbox's uid or gid."}


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("a.test/victim/", "shares a directory with the mailbox victim@a.test"),
        ("a.test/victim/.spy/", "shares a directory with the mailbox victim@a.test"),
        ("a.test/victim/Maildir/", "shares a directory with the mailbox victim@a.test"),
        ("b.test/bob/", "lies under a.test/ or spy@a.test/"),
        ("b.test/bob/.spy/", "lies under a.test/ or spy@a.test/"),
    ],
)
def test_import_path_inside_another_mailbox_is_refused(tenants, path: str, why: str) -> None:
    alice, _a, _b = tenants
    for actor in (alice, None):  # the domain admin and the superadmin alike
        found = import_errors(HEADER + f"mailbox,spy@a.test,{HASH},{path},,\n", actor)
        assert why in found[2], found


def test_import_paths_that_nest_within_the_file_are_refused(tenants) -> None:
    alice, _a, _b = tenants
    text = HEADER + (
        f"mailbox,one@a.test,{HASH},a.test/shared/,,\n"  # 2
        f"mailbox,two@a.test,{HASH},a.test/shared/inner/,,\n"  # 3: inside line 2's
        f"mailbox,shared@a.test,{HASH},,,\n"  # 4: its home is line 2's path
        f"mailbox,three@a.test,{HASH},a.test/one/,,\n"  # 5: line 2's home
    )
    found = import_errors(text, alice)
    assert set(found) == {3, 4, 5}
    assert all("the mailbox of line 2" in reason for reason in found.values()), found


def test_a_new_mailbox_never_takes_an_imported_mailbox_s_directory(tenants) -> None:
    alice, _a, _b = tenants
    Importer(
        CsvFile(data=(HEADER + f"mailbox,old@a.test,{HASH},a.test/legacy/,,\n").encode()),
        actor=alice,
    ).commit()
    with pytest.raises(ValidationError) as info:
        f.mailbox("legacy@a.test")
    assert info.value.message_dict["address"] == [
        "The mail directory a.test/legacy/ shares a directory with the mailbox old@a.test."
    ]
    assert path_conflict(domain="a.test", local_part="other", path="a.test/legacy/x/")


def test_a_superadmin_import_sets_owner_and_own_layout_and_audits_each_object(tenants) -> None:
    text = HEADER + (
        f"mailbox,pfa@a.test,{HASH},pfa@a.test/,7001,7002\n"
        f"mailbox,deep@a.test,{HASH},a.test/deep/Maildir/,,\n"
    )
    report = Importer(CsvFile(data=text.encode()), actor=None).commit()
    assert report.committed
    pfa = Mailbox.objects.get(local_part="pfa")
    assert (pfa.path, pfa.uid, pfa.gid) == ("pfa@a.test/", 7001, 7002)
    entries = {e.object_repr: e for e in AuditEntry.objects.filter(action="create")}
    assert entries["pfa@a.test"].changes == {
        "name": "",
        "quota": 0,
        "format": "maildir",
        "path": "pfa@a.test/",
        "uid": 7001,
        "gid": 7002,
        "active": True,
    }
    assert entries["pfa@a.test"].object_id == str(pfa.pk)
    assert entries["pfa@a.test"].domain == "a.test"
    assert entries["deep@a.test"].changes["path"] == "a.test/deep/Maildir/"
    # The summary entry stays, next to one entry per object.
    assert AuditEntry.objects.get(action="import").changes == {"mailbox": 2}


def test_import_audit_names_every_kind_of_object(tenants) -> None:
    alice, _a, _b = tenants
    text = (
        "type,name,password,destinations,target\n"
        f"mailbox,new@a.test,{HASH},,\n"
        "alias,team@a.test,,new@a.test victim@a.test,\n"
    )
    Importer(CsvFile(data=text.encode()), actor=alice).commit()
    team = AuditEntry.objects.get(object_repr="team@a.test")
    assert (team.action, team.actor, team.domain) == ("create", alice, "a.test")
    assert team.changes == {
        "destinations": ["new@a.test", "victim@a.test"],
        "description": "",
        "active": True,
    }
    Importer(
        CsvFile(data=b"type,name,target\ndomain,c.test,\naliasdomain,c-alias.test,c.test\n"),
        actor=None,
    ).commit()
    assert AuditEntry.objects.get(object_repr="c.test", action="create").changes["uid"] is None
    assert AuditEntry.objects.get(object_repr="c-alias.test → c.test").changes == {
        "target": "c.test",
        "active": True,
    }


# --- the database, the migration, the restore ------------------------------------------------


@pytest.mark.parametrize(
    "path", ["a.test/spy:INBOX=/var/vmail/b.test/bob/", "a.test/%u/", "a.test/s p/"]
)
def test_the_database_refuses_dovecot_syntax_in_paths(tenants, path: str) -> None:
    victim = Mailbox.objects.get(local_part="victim")
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.filter(pk=victim.pk).update(path=path)


def test_the_database_refuses_a_shared_path(tenants) -> None:
    victim = Mailbox.objects.get(local_part="victim")
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.filter(pk=victim.pk).update(path="b.test/bob/")


def test_the_model_refuses_what_the_rule_refuses(tenants) -> None:
    victim = Mailbox.objects.get(local_part="victim")
    victim.path = "b.test/bob/.x/"
    with pytest.raises(ValidationError) as info:
        victim.full_clean()
    assert list(info.value.error_dict) == ["path"]
    assert [e.code for e in info.value.error_dict["path"]] == ["path_not_own"]


def test_restore_refuses_a_backup_with_a_foreign_path(tenants) -> None:
    out = io.StringIO()
    backup.write_backup(out)
    data = json.loads(out.getvalue())
    for obj in data["objects"]:
        if obj["model"] == "mailboxes.mailbox" and obj["fields"]["local_part"] == "victim":
            obj["fields"]["path"] = "b.test/bob/.stolen/"
    Domain.objects.all().delete()
    get_user_model().objects.all().delete()
    AuditEntry.objects.all().delete()
    with pytest.raises(backup.RestoreError) as info:
        backup.restore(data)
    assert "victim@a.test" in str(info.value)
    assert not Mailbox.objects.exists()


def test_stored_path_problems_finds_nesting_written_behind_the_rule(tenants) -> None:
    assert stored_path_problems() == []
    victim = Mailbox.objects.get(local_part="victim")
    Mailbox.objects.filter(pk=victim.pk).update(path="a.test/victim/")
    f.mailbox("other@a.test")
    Mailbox.objects.filter(local_part="other").update(path="a.test/victim/inner/")
    problems = stored_path_problems()
    assert len(problems) == 1 and "other@a.test" in problems[0], problems


# --- the PostfixAdmin migration --------------------------------------------------------------


def test_migration_skips_and_reports_a_mailbox_with_dovecot_syntax_in_its_path(tenants) -> None:
    data = PfaData(
        {
            "domain": [{"domain": "c.test"}],
            "mailbox": [
                {
                    "username": "evil@c.test",
                    "password": HASH,
                    "maildir": "c.test/evil:INBOX=/var/vmail/b.test/bob/",
                },
                {"username": "good@c.test", "password": HASH, "maildir": "c.test/good@c.test/"},
            ],
        }
    )
    report = migrate(data)
    skipped = dict(report.skipped)
    assert (
        "holds “:” or “%”, which Dovecot reads as configuration" in skipped["mailbox evil@c.test"]
    )
    assert Mailbox.objects.get(local_part="good").path == "c.test/good@c.test/"
    assert not Mailbox.objects.filter(local_part="evil").exists()
