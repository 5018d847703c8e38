"""CSV import: every bad line is reported with its number and reason, and nothing is written;
a good file is written all at once, under the same rules as the services."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from domains.models import AliasDomain, Domain
from mailadmin import passwords
from mailboxes.models import Alias, Mailbox
from tests import factories as f
from transfer.csvformat import CsvFile, HeaderError, escape_cell
from transfer.exporter import export_csv
from transfer.importer import Importer, ImportRejected, Report

pytestmark = pytest.mark.django_db

HASH = "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"
HEADER = "type,name,password,quota,destinations,target,max_mailboxes,total_quota\n"


def counts() -> tuple[int, int, int, int]:
    return (
        Domain.objects.count(),
        AliasDomain.objects.count(),
        Mailbox.objects.count(),
        Alias.objects.count(),
    )


def run(text: str | bytes, *, actor=None, commit: bool = True) -> Report:
    data = text.encode() if isinstance(text, str) else text
    importer = Importer(CsvFile(data=data), actor=actor)
    return importer.commit() if commit else importer.validate()


def errors(report: Report) -> dict[int, str]:
    return {p.line: p.reason for p in report.errors}


def rejected(text: str | bytes, *, actor=None) -> dict[int, str]:
    before = counts()
    with pytest.raises(ImportRejected) as info:
        run(text, actor=actor)
    assert counts() == before, "a rejected import wrote something"
    return errors(info.value.report)


GOOD = (
    HEADER + "domain,Example.ORG,,,,,,\n"
    f"mailbox,john@example.org,{HASH},1G,,,,\n"
    "mailbox,jane@example.org,a clear password,,,,,\n"
    'alias,team@example.org,,,"john@example.org; jane@example.org",,,\n'
    "alias,@example.org,,,john@example.org,,,\n"
    "aliasdomain,example.net,,,,example.org,,\n"
)


def test_good_file_creates_everything_with_the_services_rules() -> None:
    report = run(GOOD)
    assert report.ok and report.committed
    assert dict(report.created) == {"domain": 1, "mailbox": 2, "alias": 2, "aliasdomain": 1}
    john = Mailbox.objects.get(local_part="john")
    assert john.password == HASH  # a {SCHEME}hash is kept as it is
    assert john.quota == 1024**3 and john.path == "example.org/john/"
    jane = Mailbox.objects.get(local_part="jane")
    assert jane.password.startswith("{ARGON2ID}")  # a clear password is hashed
    assert passwords.verify_password("a clear password", jane.password)
    team = Alias.objects.get(local_part="team")
    assert sorted(team.destinations.values_list("address", flat=True)) == [
        "jane@example.org",
        "john@example.org",
    ]
    assert AliasDomain.objects.get().target.name == "example.org"


def test_dry_run_writes_nothing() -> None:
    report = run(GOOD, commit=False)
    assert report.ok and not report.committed
    assert report.created["mailbox"] == 2
    assert counts() == (0, 0, 0, 0)


def test_rows_may_come_before_their_domain() -> None:
    text = HEADER + f"mailbox,a@late.example,{HASH},,,,,\naliasdomain,x.example,,,,late.example,,\n"
    text += "domain,late.example,,,,,,\n"
    assert run(text).ok
    assert counts() == (1, 1, 1, 0)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("type,name,colour\n", "unknown column"),
        ("name,password\n", "needs the columns type"),
        ("type,name,name\n", "named twice"),
        ("", "empty"),
    ],
)
def test_wrong_columns_are_refused_before_any_row(header: str, reason: str) -> None:
    with pytest.raises(HeaderError, match=reason):
        run(header + "domain,example.org\n" if header else "")
    assert counts() == (0, 0, 0, 0)


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_written() -> None:
    f.domain("full.example", max_mailboxes=1)
    f.mailbox("first@full.example")
    f.domain("quota.example", total_quota=3 * 1024**3)
    f.mailbox("taken@quota.example", quota=1024**3)
    lines = [
        HEADER.strip(),
        "domain,ok.example,,,,,,",  # 2: fine
        f"mailbox,not-an-address,{HASH},,,,,",  # 3
        f"mailbox,bad..dots@ok.example,{HASH},,,,,",  # 4
        f"mailbox,dup@ok.example,{HASH},,,,,",  # 5: fine
        f"mailbox,DUP@ok.example,{HASH},,,,,",  # 6: duplicate of line 5
        f"mailbox,taken@quota.example,{HASH},1G,,,,",  # 7: already in the database
        f"mailbox,second@full.example,{HASH},,,,,",  # 8: over the domain's mailbox limit
        f"mailbox,big@quota.example,{HASH},3G,,,,",  # 9: over the total quota
        "mailbox,short@ok.example,abc,,,,,",  # 10: password too short
        "mailbox,x@ok.example,{NOPE}abc,,,,,",  # 11: unknown scheme
        f"mailbox,y@nowhere.example,{HASH},,,,,",  # 12: no such domain
        "alias,loop@ok.example,,,loop@ok.example,,,",  # 13: points to itself, no mailbox
        "alias,empty@ok.example,,,,,,",  # 14: no destination
        "domain,ok.example,,,,,,",  # 15: duplicate domain
        "aliasdomain,ok.example,,,,full.example,,",  # 16: already a domain of the file
        "widget,thing,,,,,,",  # 17: unknown type
        "mailbox,too,few",  # 18: wrong field count
        f"mailbox,q@ok.example,{HASH},lots,,,,",  # 19: bad size
    ]
    found = rejected("\n".join(lines) + "\n")
    expected = {
        3: "not an e-mail address",
        4: "not allowed before the @",
        6: "already on line 5",
        7: "already exists",
        8: "maximum of 1 mailboxes",
        9: "of its total quota left",
        10: "at least 8 characters",
        11: "{SCHEME}hash",
        12: "no domain nowhere.example",
        13: "cannot point to itself",
        14: "at least one destination",
        15: "already on line 2",
        16: "is a domain on line 2",
        17: "not one of",
        18: "3 fields where the header has 8",
        19: "not a size",
    }
    assert set(found) == set(expected), found
    for line, words in expected.items():
        assert words in found[line], (line, found[line])


def test_broken_encoding_is_reported_by_line() -> None:
    data = (HEADER + "domain,ok.example,,,,,,\n").encode()
    data += b"mailbox,caf\xe9@ok.example,secretpassword,,,,,\n"  # Latin-1, not UTF-8
    found = rejected(data)
    assert list(found) == [3]
    assert "not UTF-8 (byte 0xe9)" in found[3]


def test_byte_order_mark_and_semicolons_are_understood() -> None:
    data = b"\xef\xbb\xbftype;name\ndomain;bom.example\n"
    assert run(data).ok
    assert Domain.objects.filter(name="bom.example").exists()


def test_domain_admin_imports_only_into_their_domains() -> None:
    mine = f.domain("mine.example")
    f.domain("theirs.example")
    admin = f.domain_admin("dadmin", mine)
    text = HEADER + (
        f"mailbox,a@mine.example,{HASH},,,,,\n"
        f"mailbox,b@theirs.example,{HASH},,,,,\n"
        "domain,new.example,,,,,,\n"
    )
    found = rejected(text, actor=admin)
    assert "not one of your domains" in found[3]
    assert "Only a superadmin" in found[4]
    assert 2 not in found
    assert run(HEADER + f"mailbox,a@mine.example,{HASH},,,,,\n", actor=admin).ok
    assert Mailbox.objects.filter(domain=mine).count() == 1


def test_limit_counts_rows_of_the_same_file() -> None:
    text = (
        HEADER
        + "domain,two.example,,,,,2,\n"
        + "".join(f"mailbox,m{i}@two.example,{HASH},,,,,\n" for i in range(3))
    )
    found = rejected(text)
    assert list(found) == [5]
    assert "maximum of 2 mailboxes" in found[5]


def test_export_is_formula_safe_and_imports_back_the_same(tmp_path: Path) -> None:
    f.domain("round.example", max_mailboxes=10, description="=HYPERLINK(1)")
    f.mailbox("a@round.example", name="+cmd|' /C calc'!A0", quota=5 * 1024**2)
    f.mailbox("b@round.example", storage_format="mbox", active=False)
    f.alias("@round.example", "a@round.example")
    f.alias("list@round.example", "a@round.example", "x@elsewhere.net")
    out = io.StringIO()
    assert export_csv(out, None, include_hashes=True) == 5
    text = out.getvalue()
    assert ",'=HYPERLINK(1)," in text and ",'+cmd|" in text
    for line in text.splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "-", "@")), line
    Domain.objects.all().delete()
    assert run(text).ok
    again = io.StringIO()
    export_csv(again, None, include_hashes=True)
    assert again.getvalue() == text


def test_escape_cell() -> None:
    assert escape_cell("=1+2") == "'=1+2"
    assert escape_cell("@SUM(A1)") == "'@SUM(A1)"
    assert escape_cell("plain") == "plain"
    assert escape_cell("'=x") == "''=x"


def test_command_dry_run_and_import(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(GOOD)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_csv", str(path), "--dry-run", stdout=out, stderr=err)
    assert "would create" in out.getvalue() and "dry run" in out.getvalue()
    assert counts() == (0, 0, 0, 0)
    call_command("import_csv", str(path), "--no-progress", stdout=out, stderr=err)
    assert counts() == (1, 1, 2, 2)
    with pytest.raises(CommandError, match="6 bad row"):
        call_command("import_csv", str(path), "--no-progress", stdout=out, stderr=err)
    assert "line 2: The domain example.org already exists." in err.getvalue()


def test_command_shows_progress(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = "".join(f"mailbox,u{i}@p.example,{HASH},,,,,\n" for i in range(2500))
    path.write_text(HEADER + "domain,p.example,,,,,,\n" + rows)
    err = io.StringIO()
    call_command("import_csv", str(path), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert any(line.startswith("reading") and "/2501 rows" in line for line in lines), lines
    assert any(line.startswith("writing") for line in lines), lines
    assert Mailbox.objects.count() == 2500


def test_a_custom_maildir_never_reaches_another_mailbox() -> None:
    mine = f.domain("mine.example")
    f.domain("theirs.example")
    f.mailbox("ceo@theirs.example")
    admin = f.domain_admin("dadmin", mine)
    text = (
        HEADER.strip()
        + ",maildir\n"
        + (
            f"mailbox,a@mine.example,{HASH},,,,,,theirs.example/ceo/\n"  # 2: another domain
            f"mailbox,b@mine.example,{HASH},,,,,,mine.example/shared/\n"  # 3: fine
            f"mailbox,c@mine.example,{HASH},,,,,,mine.example/shared/\n"  # 4: same as line 3
        )
    )
    found = rejected(text, actor=admin)
    assert set(found) == {2, 4}
    assert found[2] == (
        "maildir: A mailbox path of its own lies under mine.example/ or a@mine.example/."
    )
    assert found[4] == (
        "maildir: mine.example/shared/ shares a directory with the mailbox of line 3."
    )
    # The same rule for a superadmin (tests/test_mailbox_storage.py has the whole rule).
    text = (
        HEADER.strip() + ",maildir\n" + f"mailbox,d@mine.example,{HASH},,,,,,theirs.example/ceo/\n"
    )
    assert rejected(text)[2] == (
        "maildir: A mailbox path of its own lies under mine.example/ or d@mine.example/."
    )


def test_command_as_a_domain_admin_and_private_export(tmp_path: Path) -> None:
    mine = f.domain("mine.example")
    f.domain("theirs.example")
    f.domain_admin("dadmin", mine)
    path = tmp_path / "in.csv"
    path.write_text(HEADER + f"mailbox,x@theirs.example,{HASH},,,,,\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 bad row"):
        call_command("import_csv", str(path), "--as", "dadmin", stdout=io.StringIO(), stderr=err)
    assert "line 2: name: theirs.example is not one of your domains." in err.getvalue()
    out = tmp_path / "all.csv"
    call_command("export_csv", "--out", str(out), stderr=io.StringIO())
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.read_text().splitlines()[1].startswith("domain,mine.example,")


def test_an_alias_loop_is_refused_as_the_services_refuse_it() -> None:
    """Within the file, and closing a loop with an alias already stored (mailboxes/loops.py)."""
    f.domain("loop.example")
    text = (
        "type,name,destinations\n"
        "alias,a@loop.example,b@loop.example\n"
        "alias,b@loop.example,a@loop.example\n"
    )
    found = rejected(text)
    assert set(found) == {2, 3}
    assert found[2].startswith(
        "destinations: Mail to a@loop.example would go round a loop: "
        "a@loop.example → b@loop.example → a@loop.example."
    )
    # c points at d, which does not exist yet: as an older import could leave it.
    c = Alias.objects.create(domain=Domain.objects.get(name="loop.example"), local_part="c")
    c.destinations.create(address="d@loop.example")
    found = rejected("type,name,destinations\nalias,d@loop.example,c@loop.example\n")
    assert "d@loop.example → c@loop.example → d@loop.example" in found[2]
    # A copy kept in a mailbox stops the expansion: no loop.
    f.mailbox("m@loop.example")
    report = run("type,name,destinations\nalias,m@loop.example,m@loop.example c@loop.example\n")
    assert report.committed
