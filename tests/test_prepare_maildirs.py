"""`manage.py prepare_maildirs`: the mail directories of active mailboxes, as root.

The mail base is tmp_path; the tests run as root, so owners and modes are the real ones.
"""

from __future__ import annotations

import os
import stat
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.models import AuditEntry
from domains.models import Domain
from domains.services import server_settings_update
from mailboxes import services as mailbox_services
from mailboxes.maildirs import ARCHIVED, MARKER, active_mailboxes, mailbox_token, prepare_maildirs
from mailboxes.models import Mailbox
from tests import factories as f
from transfer.csvformat import CsvFile
from transfer.importer import Importer, ImportRejected

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(os.geteuid() != 0, reason="creates directories owned by other users"),
]


def run(base: Path, *args: str) -> list[str]:
    out = StringIO()
    call_command("prepare_maildirs", "--mail-base", str(base), *args, stdout=out)
    return out.getvalue().splitlines()


def owner_mode(path: Path) -> tuple[int, int, int]:
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return tmp_path / "vmail"


def test_maildir_mailbox_gets_domain_home_and_cur_new_tmp(base):
    f.domain()
    f.mailbox("john@example.com")
    lines = run(base)
    assert lines == [
        f"created {base} (0:0)",
        f"created {base}/example.com (0:0)",
        f"created {base}/example.com/john (5000:5000)",
        f"created {base}/example.com/john/cur (5000:5000)",
        f"created {base}/example.com/john/new (5000:5000)",
        f"created {base}/example.com/john/tmp (5000:5000)",
        "1 mailbox checked: created 6, fixed 0; 0 warnings, 0 orphans.",
    ]
    assert owner_mode(base) == (0, 0, 0o755)
    assert owner_mode(base / "example.com") == (0, 0, 0o755)
    home = base / "example.com" / "john"
    assert owner_mode(home) == (5000, 5000, 0o700)
    # The marker names the mailbox the home was made for (mailboxes/maildirs/markers.py).
    assert sorted(os.listdir(home)) == [MARKER, "cur", "new", "tmp"]
    john = Mailbox.objects.get()
    assert (home / MARKER).read_text() == mailbox_token(john.pk, john.created_at) + "\n"
    assert owner_mode(home / MARKER) == (0, 0, 0o644)
    for sub in ("cur", "new", "tmp"):
        assert owner_mode(home / sub) == (5000, 5000, 0o700)


def test_mbox_mailbox_gets_only_its_home(base):
    f.domain()
    f.mailbox("a@example.com", storage_format="mbox", uid=6000)
    lines = run(base)
    assert f"created {base}/example.com/a (6000:5000)" in lines
    home = base / "example.com" / "a"
    assert owner_mode(home) == (6000, 5000, 0o700)
    assert os.listdir(home) == [MARKER]  # virtual(8) creates the mbox file itself


def test_uid_gid_resolve_mailbox_then_domain_then_server_default(base):
    server_settings_update(actor=None, default_uid=8000, default_gid=8001)
    f.domain("example.com", uid=7000)
    f.domain("example.org")
    f.mailbox("own@example.com", uid=6000, gid=6001)
    f.mailbox("dom@example.com")
    f.mailbox("srv@example.org")
    run(base)
    assert owner_mode(base / "example.com" / "own")[:2] == (6000, 6001)
    assert owner_mode(base / "example.com" / "dom")[:2] == (7000, 8001)
    assert owner_mode(base / "example.org" / "srv")[:2] == (8000, 8001)


def test_rows_match_the_dovecot_userdb_view(base):
    server_settings_update(actor=None, default_uid=8000, default_gid=8001)
    f.domain("example.com", uid=7000, gid=7001)
    f.domain("example.org")
    f.domain("relay.example", delivery="relay", transport="smtp:[mx.internal]")
    f.mailbox("own@example.com", uid=6000)
    f.mailbox("dom@example.com", storage_format="mbox")
    f.mailbox("srv@example.org", gid=6002)
    f.mailbox("off@example.org", active=False)
    ours = sorted(
        (m.domain, m.local_part, m.path, m.format, m.uid, m.gid) for m in active_mailboxes()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT domain, local_part, maildir, format, uid, gid FROM mailadmin_dovecot_userdb"
        )
        view = sorted(tuple(row) for row in cursor.fetchall())
    assert ours == view
    assert len(ours) == 3


def test_second_run_changes_nothing_and_says_so(base):
    f.domain()
    f.mailbox("john@example.com")
    f.mailbox("mary@example.com", storage_format="mbox")
    run(base)
    assert run(base) == ["2 mailboxes checked: nothing to change; 0 warnings, 0 orphans."]


def test_dry_run_creates_nothing(base):
    f.domain()
    f.mailbox("john@example.com")
    lines = run(base, "--dry-run")
    assert not base.exists()
    assert lines[0] == f"would create {base} (0:0)"
    assert f"would create {base}/example.com/john/tmp (5000:5000)" in lines
    assert lines[-1] == (
        "Dry run, nothing changed. 1 mailbox checked: would create 6, would fix 0; "
        "0 warnings, 0 orphans."
    )


def test_dry_run_reports_only_what_is_missing(base):
    f.domain()
    f.mailbox("john@example.com")
    run(base)
    os.rmdir(base / "example.com" / "john" / "new")
    assert run(base, "--dry-run") == [
        f"would create {base}/example.com/john/new (5000:5000)",
        "Dry run, nothing changed. 1 mailbox checked: would create 1, would fix 0; "
        "0 warnings, 0 orphans.",
    ]
    assert not (base / "example.com" / "john" / "new").exists()


def test_wrong_owner_is_a_warning_unless_fix_owners(base):
    f.domain()
    f.mailbox("john@example.com")
    run(base)
    home = base / "example.com" / "john"
    os.chown(home, 4000, 4000)
    os.chown(home / "cur", 4000, 5000)
    lines = run(base)
    assert lines == [
        f"warning: {home} is owned by 4000:4000, not 5000:5000; left as is "
        "(--fix-owners changes it)",
        f"warning: {home}/cur is owned by 4000:5000, not 5000:5000; left as is "
        "(--fix-owners changes it)",
        "1 mailbox checked: nothing to change; 2 warnings, 0 orphans.",
    ]
    assert owner_mode(home)[:2] == (4000, 4000)

    assert run(base, "--fix-owners", "--dry-run")[0] == (
        f"would fix owner {home} (5000:5000, was 4000:4000)"
    )
    assert owner_mode(home)[:2] == (4000, 4000)

    lines = run(base, "--fix-owners")
    assert lines == [
        f"fixed owner {home} (5000:5000, was 4000:4000)",
        f"fixed owner {home}/cur (5000:5000, was 4000:5000)",
        "1 mailbox checked: created 0, fixed 2; 0 warnings, 0 orphans.",
    ]
    assert owner_mode(home) == (5000, 5000, 0o700)
    assert owner_mode(home / "cur") == (5000, 5000, 0o700)
    assert run(base)[-1] == "1 mailbox checked: nothing to change; 0 warnings, 0 orphans."


def test_wrong_mode_is_a_warning_unless_fix_owners(base):
    f.domain()
    f.mailbox("john@example.com")
    run(base)
    domain_dir = base / "example.com"
    os.chown(domain_dir, 5000, 5000)
    os.chmod(domain_dir, 0o700)  # an old layout: nobody but 5000 could reach other homes
    lines = run(base)
    assert (
        f"warning: {domain_dir} has mode 0700, not 0755; left as is (--fix-owners changes it)"
        in lines
    )
    run(base, "--fix-owners")
    assert owner_mode(domain_dir) == (0, 0, 0o755)


def test_home_that_is_a_symlink_is_refused(base, tmp_path):
    f.domain()
    f.mailbox("john@example.com")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o755)
    (base / "example.com").mkdir(parents=True)
    os.symlink(elsewhere, base / "example.com" / "john")
    lines = run(base, "--fix-owners")
    assert f"warning: {base}/example.com/john is a symlink; refusing to follow it, left alone" in (
        lines
    )
    assert owner_mode(elsewhere) == (0, 0, 0o755)
    assert os.listdir(elsewhere) == []
    assert os.path.islink(base / "example.com" / "john")


def test_symlink_planted_inside_a_home_is_refused(base, tmp_path):
    f.domain()
    f.mailbox("john@example.com")
    run(base)
    target = tmp_path / "etc"
    target.mkdir(mode=0o755)
    cur = base / "example.com" / "john" / "cur"
    os.rmdir(cur)
    os.symlink(target, cur)  # what the mailbox owner could do in their own home
    lines = run(base, "--fix-owners")
    assert f"warning: {cur} is a symlink; refusing to follow it, left alone" in lines
    assert owner_mode(target) == (0, 0, 0o755)


def test_inactive_and_deleted_mailboxes_are_never_touched(base):
    f.domain()
    f.domain("off.example")
    f.mailbox("john@example.com")
    f.mailbox("gone@off.example")
    f.mailbox("off@example.com", active=False)
    Domain.objects.filter(name="off.example").update(active=False)
    old = base / "example.com" / "old"
    old.mkdir(parents=True)
    os.chown(old, 4000, 4000)
    lines = run(base, "--fix-owners")
    assert not (base / "example.com" / "off").exists()
    assert not (base / "off.example").exists()
    assert f"orphan: {old} (no active mailbox; left alone)" in lines
    assert owner_mode(old)[:2] == (4000, 4000)
    # base and domain directory were there: the home and cur, new, tmp
    assert lines[-1] == "1 mailbox checked: created 4, fixed 0; 0 warnings, 1 orphan."


def test_orphan_domain_directories_are_reported(base):
    f.domain()
    f.mailbox("john@example.com")
    (base / "gone.example" / "someone").mkdir(parents=True)
    (base / "lost+found").mkdir()
    lines = run(base)
    assert f"orphan: {base}/gone.example (no active mailbox in this domain; left alone)" in lines
    assert not any("lost+found" in line for line in lines)


def test_domain_option_limits_the_run(base):
    f.domain()
    f.domain("example.org")
    f.mailbox("john@example.com")
    f.mailbox("mary@example.org")
    lines = run(base, "--domain", "Example.ORG")
    assert (base / "example.org" / "mary").is_dir()
    assert not (base / "example.com").exists()
    assert lines[-1] == "1 mailbox checked: created 6, fixed 0; 0 warnings, 0 orphans."
    with pytest.raises(CommandError, match="no such domain"):
        run(base, "--domain", "nowhere.example")
    Domain.objects.filter(name="example.com").update(active=False)
    assert run(base, "--domain", "example.com") == [
        "example.com is not an active hosted domain: nothing to do."
    ]
    assert not (base / "example.com").exists()


def test_maildir_below_the_home(base):
    f.domain()
    f.mailbox("john@example.com")
    Mailbox.objects.update(path="example.com/john/Maildir/")
    run(base)
    maildir = base / "example.com" / "john" / "Maildir"
    assert owner_mode(maildir) == (5000, 5000, 0o700)
    assert sorted(os.listdir(maildir)) == ["cur", "new", "tmp"]
    assert sorted(os.listdir(maildir.parent)) == [MARKER, "Maildir"]


def test_path_outside_the_home_prepares_only_the_home(base):
    f.domain()
    f.mailbox("john@example.com")
    Mailbox.objects.update(path="example.com/other/")
    lines = run(base)
    assert (
        "warning: john@example.com: its path 'example.com/other/' is not inside its home "
        "example.com/john; only the home is prepared"
    ) in lines
    assert os.listdir(base / "example.com") == ["john"]
    assert os.listdir(base / "example.com" / "john") == [MARKER]


def test_uid_below_the_minimum_is_skipped(base, settings):
    f.domain()
    f.mailbox("john@example.com")
    settings.MAILADMIN_MIN_UID = 6000
    lines = run(base)
    assert lines[-2] == (
        "warning: john@example.com: uid/gid 5000:5000 is below MAILADMIN_MIN_UID 6000, "
        "which Postfix and Dovecot refuse; skipped"
    )
    assert not (base / "example.com" / "john").exists()


def test_query_count_does_not_grow_with_mailboxes(base, django_assert_num_queries):
    f.domain()
    f.mailbox("user0@example.com")
    with django_assert_num_queries(1):
        run(base)
    for n in range(1, 25):
        f.mailbox(f"user{n}@example.com", storage_format="mbox" if n % 2 else "maildir")
    with django_assert_num_queries(1):
        lines = run(base)
    assert lines[-1].startswith("25 mailboxes checked: created 60,")  # 12 mbox, 12 Maildir


def test_refuses_to_run_as_a_normal_user_except_dry_run(base, monkeypatch):
    f.domain()
    f.mailbox("john@example.com")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(CommandError, match="run it as root"):
        run(base)
    assert not base.exists()
    assert run(base, "--dry-run")[0] == f"would create {base} (0:0)"


@pytest.mark.parametrize("bad", ["var/vmail", "./vmail", ""])
def test_mail_base_must_be_absolute(bad, settings):
    settings.MAILADMIN_MAIL_BASE = bad
    with pytest.raises(CommandError, match="absolute path"):
        call_command("prepare_maildirs", stdout=StringIO())


def test_missing_parent_of_the_mail_base_is_an_error(tmp_path):
    f.domain()
    f.mailbox("john@example.com")
    with pytest.raises(CommandError, match="1 error"):
        run(tmp_path / "no" / "vmail")
    assert not (tmp_path / "no").exists()


def test_several_uids_share_a_root_owned_domain_directory(base):
    f.domain()
    f.mailbox("a@example.com", uid=6000, gid=6000)
    f.mailbox("b@example.com", uid=7000, gid=7000)
    run(base)
    assert owner_mode(base / "example.com") == (0, 0, 0o755)
    assert owner_mode(base / "example.com" / "a")[:2] == (6000, 6000)
    assert owner_mode(base / "example.com" / "b")[:2] == (7000, 7000)
    assert Mailbox.objects.count() == 2


def test_a_failing_query_leaves_the_disk_untouched(base):
    def rows():
        raise RuntimeError("database down")
        yield  # pragma: no cover

    with pytest.raises(RuntimeError):
        prepare_maildirs(
            mail_base=str(base),
            rows=rows(),
            dry_run=False,
            fix_owners=False,
            min_uid=1000,
            report=print,
        )
    assert not base.exists()


# --- a home is handed to one mailbox only ------------------------------------------------------


def deliver(home: Path, name: str, *, age_days: int = 0) -> Path:
    """A message in the Maildir `home`, `age_days` old (as virtual(8) or Dovecot leave it)."""
    message = home / "new" / name
    message.write_text("Subject: old\n\nold owner's mail\n")
    when = time.time() - age_days * 86400
    os.utime(message, (when, when))
    return message


def test_re_created_address_waits_for_the_archive_run(base, tmp_path):
    f.domain()
    old = f.mailbox("john@example.com")
    run(base)
    deliver(base / "example.com" / "john", "1.old")
    mailbox_services.mailbox_delete(actor=None, mailbox=old)
    # The old directory is still there: a new john@ would get its mail at once.
    with pytest.raises(ValidationError, match="archive-orphans"):
        f.mailbox("john@example.com")
    archive = tmp_path / "archive"
    lines = run(base, "--archive-orphans", str(archive))
    [moved] = [line for line in lines if line.startswith(f"archived {base}")]
    assert moved.startswith(f"archived {base}/example.com/john to {archive}/example.com/john.")
    assert AuditEntry.objects.filter(action=ARCHIVED).count() == 1
    new = f.mailbox("john@example.com")
    run(base)
    home = base / "example.com" / "john"
    assert os.listdir(home / "new") == []
    assert (home / MARKER).read_text().strip() == mailbox_token(new.pk, new.created_at)
    [kept] = list(archive.glob("example.com/john.*/new/1.old"))
    assert "old owner's mail" in kept.read_text()


def test_import_waits_for_the_archive_run_too(base):
    f.domain()
    mailbox_services.mailbox_delete(actor=None, mailbox=f.mailbox("john@example.com"))
    data = b"type,name,password\nmailbox,john@example.com,a clear password\n"
    with pytest.raises(ImportRejected) as info:
        Importer(CsvFile(data=data), actor=None).commit()
    assert "archive-orphans" in info.value.report.errors[0].reason


def test_home_marked_for_an_earlier_mailbox_is_refused(base):
    f.domain()
    f.mailbox("john@example.com")
    run(base)
    home = base / "example.com" / "john"
    message = deliver(home, "1.old")
    # The row went without an audit entry (a restore, a hand-made DELETE): the marker tells.
    Mailbox.objects.all().delete()
    new = f.mailbox("john@example.com")
    out = StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("prepare_maildirs", "--mail-base", str(base), stdout=out)
    [error] = [line for line in out.getvalue().splitlines() if line.startswith("error:")]
    assert f"{home} is the home of an earlier mailbox" in error
    assert mailbox_token(new.pk, new.created_at) in error
    assert message.exists()
    # --archive-orphans moves it aside, as the message says; then the new home is made.
    run(base, "--archive-orphans", str(base.parent / "archive"))
    assert not message.exists()
    assert (home / MARKER).read_text().strip() == mailbox_token(new.pk, new.created_at)


def test_unmarked_home_with_older_mail_is_refused_unless_adopted(base):
    f.domain()
    f.mailbox("john@example.com")
    home = base / "example.com" / "john"
    for sub in ("cur", "new", "tmp"):
        (home / sub).mkdir(parents=True)
    deliver(home, "1.old", age_days=30)
    out = StringIO()
    with pytest.raises(CommandError, match="1 error: some directories are not ready"):
        call_command("prepare_maildirs", "--mail-base", str(base), stdout=out)
    assert "has no .mailadmin-mailbox and holds mail (new/1.old) older than" in out.getvalue()
    assert not (home / MARKER).exists()
    run(base, "--adopt", "John@example.com")
    assert (home / MARKER).exists()
    assert not [line for line in run(base) if line.startswith("error")]


def test_unmarked_home_without_older_mail_gets_its_marker(base):
    # A home made before markers existed, whose mail all came after the mailbox row.
    f.domain()
    f.mailbox("john@example.com")
    home = base / "example.com" / "john"
    for sub in ("cur", "new", "tmp"):
        (home / sub).mkdir(parents=True)
    deliver(home, "1.new")
    run(base)
    assert (home / MARKER).exists()


def test_adopt_unmarked_takes_every_unmarked_home(base):
    f.domain()
    f.mailbox("john@example.com")
    home = base / "example.com" / "john"
    for sub in ("cur", "new", "tmp"):
        (home / sub).mkdir(parents=True)
    deliver(home, "1.old", age_days=30)
    run(base, "--adopt-unmarked")
    assert (home / MARKER).exists()


def test_archive_leaves_every_existing_mailbox_alone(base, tmp_path):
    f.domain()
    f.mailbox("on@example.com")
    f.mailbox("off@example.com", active=False)
    run(base)
    (base / "example.com" / "off").mkdir()
    (base / "example.com" / "gone").mkdir()
    (base / "deleted.example" / "x").mkdir(parents=True)
    archive = tmp_path / "archive"
    lines = run(base, "--archive-orphans", str(archive), "--dry-run")
    assert (base / "example.com" / "gone").exists()
    assert "would archive 2 directories." in lines
    lines = run(base, "--archive-orphans", str(archive))
    assert sorted(os.listdir(base)) == ["example.com"]
    assert sorted(os.listdir(base / "example.com")) == ["off", "on"]
    assert [p.name.split(".")[0] for p in (archive / "example.com").iterdir()] == ["gone"]
    assert [p.name.rsplit(".", 1)[0] for p in archive.iterdir() if p.name != "example.com"] == [
        "deleted.example"
    ]
    with pytest.raises(CommandError, match="outside the mail base"):
        run(base, "--archive-orphans", str(base / "archive"))
