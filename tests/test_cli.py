"""The provisioning CLI: domain, aliasdomain, mailbox and alias commands.

Every failure must be a CommandError of one line that leaves the database exactly as it was.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.db.models import F

from domains.models import AliasDomain, Domain, DomainUsage
from mailadmin.passwords import verify_password
from mailboxes.models import Alias, AliasDestination, Mailbox
from tests import factories as f
from tests.support import ROOT

pytestmark = pytest.mark.django_db

PASSWORD_LINE = re.compile(r"^Password \(shown only now\): (\S+)$", re.MULTILINE)


class Tty(StringIO):
    """A stdin that says it is a terminal, answering with its text."""

    def isatty(self) -> bool:
        return True


def snapshot():
    """Every row of every table the commands write, to prove a failure changed nothing."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Domain, AliasDomain, Mailbox, Alias, AliasDestination)
    ]


def run(*args: str, stdin: str | StringIO = "") -> str:
    out, err = StringIO(), StringIO()
    call_command(
        *args, stdout=out, stderr=err, stdin=StringIO(stdin) if isinstance(stdin, str) else stdin
    )
    assert err.getvalue() == ""
    return out.getvalue()


def fails(*args: str, stdin: str | StringIO = "") -> str:
    """Run a command that must fail; assert it changed nothing and return its one-line error."""
    before = snapshot()
    with pytest.raises(CommandError) as info:
        run(*args, stdin=stdin)
    assert snapshot() == before
    message = str(info.value)
    assert message and "\n" not in message
    return message


def generated_password(output: str) -> str:
    found = PASSWORD_LINE.findall(output)
    assert len(found) == 1, output
    assert output.count(found[0]) == 1
    return found[0]


# --- domain -------------------------------------------------------------------------------------


def test_domain_check_usage_reports_counters_that_differ_from_a_recount():
    f.domain("example.com")
    f.domain("other.example")
    f.mailbox("ann@example.com", quota=1024)
    assert run("domain", "check-usage") == "Every domain's counters match a recount.\n"
    # A write that bypasses the triggers' arithmetic: what the check is there to find.
    usage = DomainUsage.objects.filter(domain__name="example.com")
    usage.update(quota_allocated=F("quota_allocated") + 1)
    message = fails("domain", "check-usage")
    assert message.startswith("1 domain whose counters differ from a recount: example.com.")
    assert "manage.py migrate domains 0005" in message
    usage.update(quota_allocated=F("quota_allocated") - 1)
    assert run("domain", "check-usage") == "Every domain's counters match a recount.\n"


def test_domain_add_with_every_option():
    out = run(
        "domain",
        "add",
        "Bücher.Example",
        "--uid",
        "2000",
        "--gid",
        "2001",
        "--description",
        "books",
        "--max-mailboxes",
        "10",
        "--max-aliases",
        "20",
        "--max-quota",
        "2G",
        "--total-quota",
        "1.5T",
    )
    assert "bücher.example (xn--bcher-kva.example)" in out
    domain = Domain.objects.get()
    assert domain.name == "xn--bcher-kva.example"
    assert (domain.uid, domain.gid, domain.description) == (2000, 2001, "books")
    assert (domain.max_mailboxes, domain.max_aliases) == (10, 20)
    assert domain.max_mailbox_quota == 2 * 1024**3
    assert domain.total_quota == int(1.5 * 1024**4)
    assert domain.delivery == "hosted" and domain.active


def test_domain_add_relay_and_backup():
    run("domain", "add", "relay.example", "--delivery", "relay", "--transport", "smtp:[mx.x]:25")
    run("domain", "add", "backup.example", "--delivery", "backup")
    assert dict(Domain.objects.values_list("name", "delivery")) == {
        "relay.example": "relay",
        "backup.example": "backup",
    }
    assert Domain.objects.get(name="relay.example").transport == "smtp:[mx.x]:25"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bad..domain"], "name: "),
        (["localhost"], "not a fully qualified domain name"),
        (["relay.example", "--delivery", "relay"], "transport: A relayed domain needs a next hop"),
        (["x.example", "--transport", "not a transport"], "transport: "),
        (["x.example", "--uid", "0"], "uid: uid must be between 1000 and"),
        (["x.example", "--uid", "999"], "uid: uid must be between 1000 and"),
        (["x.example", "--gid", "1"], "gid: gid must be between 1000 and"),
        (["x.example", "--max-quota", "2X"], "argument --max-quota: “2X” is not a size"),
        (["x.example", "--total-quota", "lots"], "argument --total-quota:"),
        (["x.example", "--max-mailboxes", "-1"], "max-mailboxes: "),
        (["x.example", "--uid", "abc"], "argument --uid: invalid int value"),
        (["x.example", "--delivery", "elsewhere"], "argument --delivery: invalid choice"),
    ],
)
def test_domain_add_refuses_bad_input(args, expected):
    assert expected in fails("domain", "add", *args)


def test_domain_add_refuses_duplicates_and_alias_domain_names():
    f.domain("example.com")
    f.domain("target.example")
    AliasDomain.objects.create(
        name="alias.example", target=Domain.objects.get(name="target.example")
    )
    assert "already exists" in fails("domain", "add", "EXAMPLE.com")
    assert "already an alias domain" in fails("domain", "add", "alias.example")


def test_domain_list_shows_unicode_alabel_and_counts():
    f.domain("bücher.example")
    f.domain("empty.example", delivery="backup", active=False)
    f.mailbox("a@bücher.example")
    f.mailbox("b@bücher.example")
    f.alias("team@bücher.example", "a@bücher.example")
    lines = run("domain", "list").splitlines()
    assert lines[0].split() == ["NAME", "A-LABEL", "DELIVERY", "ACTIVE", "MAILBOXES", "ALIASES"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    expected = ["bücher.example", "xn--bcher-kva.example", "hosted", "yes", "2", "1"]
    assert rows["bücher.example"] == expected
    assert rows["empty.example"] == ["empty.example", "empty.example", "backup", "no", "0", "0"]


def test_domain_list_search_and_empty():
    f.domain("one.example")
    f.domain("two.example")
    out = run("domain", "list", "--search", "TWO")
    assert "two.example" in out and "one.example" not in out
    assert run("domain", "list", "--search", "nothing").strip() == "No domains."


def test_domain_show_everything_in_human_units():
    f.domain(
        "bücher.example", max_mailboxes=5, max_mailbox_quota=2 * 1024**3, total_quota=10 * 1024**3
    )
    f.mailbox("a@bücher.example", quota=1024**3)
    f.alias("@bücher.example", "a@bücher.example")
    AliasDomain.objects.create(name="alias.example", target=Domain.objects.get())
    out = run("domain", "show", "BÜCHER.example")
    fields = dict(line.split(":", 1) for line in out.splitlines())
    fields = {key: value.strip() for key, value in fields.items()}
    assert fields["name"] == "bücher.example"
    assert fields["a-label"] == "xn--bcher-kva.example"
    assert fields["delivery"] == "Hosted here"
    assert fields["uid"] == "5000 (server)"
    assert fields["mailboxes"] == "1 of 5"
    assert fields["aliases"] == "1 (no limit)"
    assert fields["max quota"] == "2 GiB per mailbox"
    assert fields["total quota"] == "10 GiB (1 GiB assigned)"
    assert fields["alias domains"] == "alias.example"


def test_domain_show_unknown():
    assert fails("domain", "show", "missing.example") == "no such domain: missing.example"
    assert fails("domain", "show", "not a domain") == "no such domain: not a domain"


def test_domain_enable_disable():
    f.domain("example.com")
    assert "Disabled domain example.com" in run("domain", "disable", "example.com")
    assert not Domain.objects.get().active
    assert "Enabled domain example.com" in run("domain", "enable", "EXAMPLE.COM")
    assert Domain.objects.get().active
    assert fails("domain", "disable", "missing.example") == "no such domain: missing.example"


def _populated_domain():
    f.domain("example.com")
    f.mailbox("a@example.com")
    f.mailbox("b@example.com")
    f.alias("team@example.com", "a@example.com", "b@example.com")
    AliasDomain.objects.create(name="example.net", target=Domain.objects.get())


def test_domain_delete_without_yes_and_no_tty_says_what_would_go():
    _populated_domain()
    message = fails("domain", "delete", "example.com")
    assert "2 mailboxes, 1 alias and 1 alias domain" in message
    assert "--yes" in message


def test_domain_delete_with_yes():
    _populated_domain()
    out = run("domain", "delete", "example.com", "--yes")
    assert "with 2 mailboxes, 1 alias and 1 alias domain" in out
    assert "left on disk" in out
    assert snapshot() == [[], [], [], [], []]


def test_domain_delete_asks_on_a_terminal():
    _populated_domain()
    before = snapshot()
    with pytest.raises(CommandError, match="not confirmed"):
        run("domain", "delete", "example.com", stdin=Tty("n\n"))
    assert snapshot() == before
    out = run("domain", "delete", "example.com", stdin=Tty("yes\n"))
    assert "[y/N]" in out and "Deleted domain example.com" in out
    assert not Domain.objects.exists()


def test_domain_delete_unknown():
    assert (
        fails("domain", "delete", "missing.example", "--yes") == "no such domain: missing.example"
    )


# --- aliasdomain --------------------------------------------------------------------------------


def test_aliasdomain_add_list_delete():
    f.domain("bücher.example")
    out = run("aliasdomain", "add", "Bücher.Net", "bücher.example")
    assert "bücher.net (xn--bcher-kva.net) → bücher.example" in out
    alias_domain = AliasDomain.objects.get()
    assert (alias_domain.name, alias_domain.target.name) == (
        "xn--bcher-kva.net",
        "xn--bcher-kva.example",
    )
    lines = run("aliasdomain", "list").splitlines()
    assert lines[1].split() == ["bücher.net", "xn--bcher-kva.net", "bücher.example", "yes"]
    assert "Deleted alias domain bücher.net" in run("aliasdomain", "delete", "xn--bcher-kva.net")
    assert not AliasDomain.objects.exists()
    assert Domain.objects.exists()
    assert run("aliasdomain", "list").strip() == "No alias domains."


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["alias.example", "missing.example"],
            "target: There is no domain missing.example.",
        ),
        (["alias.example", "relay.example"], "target: Only a hosted domain"),
        (["example.com", "example.com"], "name: A domain cannot be an alias of itself."),
        (["relay.example", "example.com"], "name: relay.example is already a domain."),
        (["taken.example", "example.com"], "already exists"),
        (["bad..name", "example.com"], "name: "),
    ],
)
def test_aliasdomain_add_refuses_bad_input(args, expected):
    f.domain("example.com")
    f.domain("relay.example", delivery="relay", transport="smtp:[mx.example.net]")
    run("aliasdomain", "add", "taken.example", "example.com")
    assert expected in fails("aliasdomain", "add", *args)


def test_aliasdomain_delete_unknown():
    assert fails("aliasdomain", "delete", "x.example") == "no such alias domain: x.example"


# --- mailbox ------------------------------------------------------------------------------------


def test_mailbox_add_prints_a_generated_password_once():
    f.domain("example.com")
    out = run("mailbox", "add", "John@Example.com")
    password = generated_password(out)
    mailbox = Mailbox.objects.get()
    assert mailbox.local_part == "john"
    assert verify_password(password, mailbox.password)
    assert mailbox.password.startswith("{ARGON2ID}")
    assert "example.com/john/" in out


def test_mailbox_add_reads_the_password_from_stdin():
    f.domain("example.com")
    out = run("mailbox", "add", "a@example.com", "--password-stdin", stdin="a good secret\nrest\n")
    assert "Password" not in out and "a good secret" not in out
    stored = Mailbox.objects.get().password
    assert verify_password("a good secret", stored)
    assert not verify_password("a good secret\n", stored)


@pytest.mark.parametrize(
    "args",
    [
        ("mailbox", "add", "a@example.com", "--password", "secret"),
        ("mailbox", "passwd", "a@example.com", "--password"),
    ],
)
def test_no_abbreviation_stands_for_password_stdin(args):
    """`--password` is not taken for `--password-stdin`: the value typed after it would be a
    password in argv, and the command would then wait on stdin as if nothing were wrong."""
    f.domain("example.com")
    message = fails(*args)
    assert "unrecognized arguments: --password" in message


def test_mailbox_add_strips_crlf_and_reads_sys_stdin_by_default(monkeypatch):
    f.domain("example.com")
    monkeypatch.setattr(sys, "stdin", StringIO("windows pass\r\n"))
    out, err = StringIO(), StringIO()
    call_command("mailbox", "add", "a@example.com", "--password-stdin", stdout=out, stderr=err)
    assert verify_password("windows pass", Mailbox.objects.get().password)


def test_mailbox_add_on_a_terminal_asks_twice(monkeypatch):
    f.domain("example.com")
    answers = iter(["first secret", "other secret"])
    monkeypatch.setattr("mailadmin.cli.getpass.getpass", lambda prompt: next(answers))
    assert "differ" in fails("mailbox", "add", "a@example.com", "--password-stdin", stdin=Tty())
    answers = iter(["same secret", "same secret"])
    run("mailbox", "add", "a@example.com", "--password-stdin", stdin=Tty())
    assert verify_password("same secret", Mailbox.objects.get().password)


def test_mailbox_add_with_every_option():
    f.domain("bücher.example", max_mailbox_quota=5 * 1024**3)
    out = run(
        "mailbox",
        "add",
        "jane@bücher.example",
        "--name",
        "Jane Doe",
        "--quota",
        "500M",
        "--format",
        "mbox",
        "--uid",
        "3000",
        "--gid",
        "3001",
        "--password-stdin",
        stdin="jane's secret\n",
    )
    assert "jane@bücher.example (jane@xn--bcher-kva.example)" in out
    assert "quota 500 MiB" in out
    mailbox = Mailbox.objects.get()
    assert mailbox.name == "Jane Doe"
    assert mailbox.quota == 500 * 1024**2
    assert mailbox.format == "mbox" and mailbox.path == "xn--bcher-kva.example/jane/mbox"
    assert (mailbox.uid, mailbox.gid) == (3000, 3001)


def test_mailbox_add_takes_the_domain_maximum_as_default_quota():
    f.domain("example.com", max_mailbox_quota=1024**3)
    run("mailbox", "add", "a@example.com")
    assert Mailbox.objects.get().quota == 1024**3


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["a@@b"], "address: “a@@b” is not an e-mail address (local@domain)."),
        (["@example.com"], "address: “@example.com” has nothing before the @."),
        (["a@missing.example"], "address: There is no domain missing.example."),
        (["a@relay.example"], "address: relay.example is not hosted here"),
        (["taken@example.com"], "already exists"),
        (["TAKEN@example.com"], "already exists"),
        (
            ["b@example.com", "--quota", "3G"],
            "quota: example.com allows at most 2 GiB per mailbox.",
        ),
        (["b@example.com", "--quota", "0"], "quota: example.com allows at most 2 GiB"),
        (["b@example.com", "--quota", "2 apples"], "argument --quota: “2 apples” is not a size"),
        (
            ["b@example.com", "--quota", "5"],
            "argument --quota: “5” has no unit: write 5M or 5G, or 5B for bytes.",
        ),
        (["b@example.com", "--uid", "0"], "uid: uid must be between 1000 and"),
        (["b@example.com", "--gid", "999"], "gid: gid must be between 1000 and"),
        (["b@example.com", "--format", "mh"], "argument --format: invalid choice"),
    ],
)
def test_mailbox_add_refuses_bad_input(args, expected):
    f.domain("example.com", max_mailbox_quota=2 * 1024**3)
    f.domain("relay.example", delivery="relay", transport="smtp:[mx.example.net]")
    f.mailbox("taken@example.com")
    assert expected in fails("mailbox", "add", *args)


def test_mailbox_add_refuses_over_the_domain_limits():
    f.domain("example.com", max_mailboxes=1, total_quota=3 * 1024**3)
    f.mailbox("a@example.com", quota=2 * 1024**3)
    message = fails("mailbox", "add", "b@example.com", "--quota", "1G")
    assert message == "address: example.com already has its maximum of 1 mailboxes."
    Domain.objects.update(max_mailboxes=0)
    message = fails("mailbox", "add", "b@example.com", "--quota", "2G")
    assert message == "quota: example.com has 1 GiB of its total quota left."


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        ("", "--password-stdin: nothing to read on stdin"),
        ("\n", "password: A password needs at least 8 characters."),
        ("short\n", "password: A password needs at least 8 characters."),
    ],
)
def test_mailbox_add_refuses_a_bad_password_from_stdin(stdin, expected):
    f.domain("example.com")
    assert fails("mailbox", "add", "a@example.com", "--password-stdin", stdin=stdin) == expected


def test_mailbox_list_with_domain_and_search():
    f.domain("bücher.example")
    f.domain("other.example")
    f.mailbox("anna@bücher.example", name="Anna Apfel", quota=1024**3)
    f.mailbox("bob@bücher.example", storage_format="mbox")
    f.mailbox("carl@other.example")
    lines = run("mailbox", "list").splitlines()
    assert lines[0].split() == ["ADDRESS", "NAME", "QUOTA", "FORMAT", "ACTIVE"]
    assert [line.split()[0] for line in lines[1:]] == [
        "carl@other.example",
        "anna@bücher.example",
        "bob@bücher.example",
    ]
    assert lines[2].split() == [
        "anna@bücher.example",
        "Anna",
        "Apfel",
        "1",
        "GiB",
        "maildir",
        "yes",
    ]
    out = run("mailbox", "list", "--domain", "BÜCHER.example")
    assert "anna@" in out and "bob@" in out and "carl@" not in out
    out = run("mailbox", "list", "--search", "apfel")
    assert "anna@" in out and "bob@" not in out
    assert run("mailbox", "list", "--search", "zzz").strip() == "No mailboxes."


def test_mailbox_list_unknown_domain():
    assert fails("mailbox", "list", "--domain", "x.example") == "no such domain: x.example"


def test_mailbox_passwd_generated_and_from_stdin():
    f.domain("example.com")
    f.mailbox("a@example.com")
    password = generated_password(run("mailbox", "passwd", "A@example.com"))
    assert verify_password(password, Mailbox.objects.get().password)
    out = run("mailbox", "passwd", "a@example.com", "--password-stdin", stdin="brand new pass\n")
    assert "Password" not in out
    assert verify_password("brand new pass", Mailbox.objects.get().password)


def test_mailbox_passwd_refuses_and_keeps_the_old_hash():
    f.domain("example.com")
    f.mailbox("a@example.com")
    message = fails("mailbox", "passwd", "a@example.com", "--password-stdin", stdin="short\n")
    assert message == "password: A password needs at least 8 characters."
    assert verify_password(f.PASSWORD, Mailbox.objects.get().password)
    assert fails("mailbox", "passwd", "b@example.com") == "no such mailbox: b@example.com"
    assert fails("mailbox", "passwd", "a@@b") == "no such mailbox: a@@b"


def test_mailbox_enable_disable():
    f.domain("example.com")
    f.mailbox("a@example.com")
    assert "Disabled mailbox a@example.com" in run("mailbox", "disable", "a@example.com")
    assert not Mailbox.objects.get().active
    assert "Enabled mailbox a@example.com" in run("mailbox", "enable", "a@example.com")
    assert Mailbox.objects.get().active
    assert fails("mailbox", "enable", "b@example.com") == "no such mailbox: b@example.com"


def test_mailbox_delete_needs_yes_and_leaves_mail_on_disk(settings):
    settings.MAILADMIN_MAIL_BASE = "/srv/vmail"
    f.domain("example.com")
    f.mailbox("a@example.com")
    message = fails("mailbox", "delete", "a@example.com")
    assert "--yes" in message and "/srv/vmail/example.com/a/" in message
    out = run("mailbox", "delete", "a@example.com", "--yes")
    assert "Its mail under /srv/vmail/example.com/a/ is left on disk" in out
    assert not Mailbox.objects.exists()
    assert fails("mailbox", "delete", "a@example.com", "--yes") == "no such mailbox: a@example.com"


def test_mailbox_delete_asks_on_a_terminal():
    f.domain("example.com")
    f.mailbox("a@example.com")
    with pytest.raises(CommandError, match="not confirmed"):
        run("mailbox", "delete", "a@example.com", stdin=Tty("\n"))
    assert Mailbox.objects.exists()
    run("mailbox", "delete", "a@example.com", stdin=Tty("y\n"))
    assert not Mailbox.objects.exists()


# --- alias --------------------------------------------------------------------------------------


def test_alias_add_list_set_delete():
    f.domain("example.com")
    out = run("alias", "add", "Team@Example.com", "B@example.net", "a@example.net", "b@example.net")
    assert "alias team@example.com → a@example.net, b@example.net" in out
    alias = Alias.objects.get()
    assert sorted(alias.destinations.values_list("address", flat=True)) == [
        "a@example.net",
        "b@example.net",
    ]
    lines = run("alias", "list").splitlines()
    assert lines[0].split() == ["ADDRESS", "ACTIVE", "DESTINATIONS"]
    assert lines[1].split() == ["team@example.com", "yes", "a@example.net,", "b@example.net"]
    out = run("alias", "set", "team@example.com", "c@example.net")
    assert "team@example.com → c@example.net" in out
    assert list(alias.destinations.values_list("address", flat=True)) == ["c@example.net"]
    assert "Deleted alias team@example.com" in run("alias", "delete", "team@example.com")
    assert snapshot()[3:] == [[], []]


def test_catchall_add_list_delete():
    f.domain("bücher.example")
    f.mailbox("a@bücher.example")
    out = run("alias", "add", "@bücher.example", "a@bücher.example")
    assert "catch-all @bücher.example (@xn--bcher-kva.example)" in out
    alias = Alias.objects.get()
    assert alias.is_catchall
    assert list(alias.destinations.values_list("address", flat=True)) == ["a@xn--bcher-kva.example"]
    assert run("alias", "list").splitlines()[1].split() == [
        "@bücher.example",
        "yes",
        "a@xn--bcher-kva.example",
    ]
    assert "already exists" in fails("alias", "add", "@BÜCHER.example", "x@example.net")
    assert "Deleted catch-all @bücher.example" in run("alias", "delete", "@xn--bcher-kva.example")
    assert not Alias.objects.exists()


def test_alias_to_itself_needs_a_mailbox():
    f.domain("example.com")
    message = fails("alias", "add", "a@example.com", "a@example.com")
    assert message == "destinations: a@example.com cannot point to itself unless it is a mailbox."
    f.mailbox("a@example.com")
    run("alias", "add", "a@example.com", "a@example.com", "archive@example.net")
    assert Alias.objects.get().destinations.count() == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["a@@example.com", "x@example.net"], "address: “a@@example.com” is not an e-mail"),
        (["a@missing.example", "x@example.net"], "address: There is no domain missing.example."),
        (["a@relay.example", "x@example.net"], "address: relay.example is not hosted here"),
        (["a@example.com", "x@@example.net"], "destinations: “x@@example.net” is not an e-mail"),
        (["a@example.com", "@example.net"], "destinations: “@example.net” has nothing before"),
        (["taken@example.com", "x@example.net"], "already exists"),
    ],
)
def test_alias_add_refuses_bad_input(args, expected):
    f.domain("example.com")
    f.domain("relay.example", delivery="relay", transport="smtp:[mx.example.net]")
    f.alias("taken@example.com", "x@example.net")
    assert expected in fails("alias", "add", *args)


def test_alias_add_needs_a_destination():
    f.domain("example.com")
    assert "the following arguments are required: DEST" in fails("alias", "add", "a@example.com")


def test_alias_add_over_the_limit():
    f.domain("example.com", max_aliases=1)
    f.alias("a@example.com", "x@example.net")
    message = fails("alias", "add", "@example.com", "x@example.net")
    assert message == "address: example.com already has its maximum of 1 aliases."


def test_alias_list_with_domain_and_search():
    f.domain("example.com")
    f.domain("other.example")
    f.alias("sales@example.com", "anna@example.net")
    f.alias("info@example.com", "bob@example.net")
    f.alias("sales@other.example", "carl@example.net")
    out = run("alias", "list", "--domain", "example.com")
    assert "sales@example.com" in out and "info@" in out and "other.example" not in out
    out = run("alias", "list", "--search", "anna")
    assert "sales@example.com" in out and "info@" not in out
    assert run("alias", "list", "--search", "zzz").strip() == "No aliases."
    assert fails("alias", "list", "--domain", "x.example") == "no such domain: x.example"


def test_alias_set_and_delete_refuse_bad_input():
    f.domain("example.com")
    f.alias("a@example.com", "x@example.net")
    assert fails("alias", "set", "b@example.com", "y@example.net") == "no such alias: b@example.com"
    assert "destinations: " in fails("alias", "set", "a@example.com", "not-an-address")
    message = fails("alias", "set", "a@example.com", "a@example.com")
    assert "cannot point to itself" in message
    assert fails("alias", "delete", "b@example.com") == "no such alias: b@example.com"
    assert fails("alias", "delete", "@example.com") == "no such alias: @example.com"


# --- the commands themselves --------------------------------------------------------------------


def _actions(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    action = next(a for a in parser._actions if a.dest == "action")
    assert isinstance(action, argparse._SubParsersAction)
    return action


@pytest.mark.parametrize("name", ["domain", "aliasdomain", "mailbox", "alias"])
def test_every_command_and_action_has_one_line_help(name):
    app = "domains" if name in {"domain", "aliasdomain"} else "mailboxes"
    command = load_command_class(app, name)
    assert command.help and "\n" not in command.help
    actions = _actions(command.create_parser("manage.py", name))
    assert actions.choices
    for choice in actions._choices_actions:
        assert choice.help and "\n" not in choice.help


def test_no_command_takes_a_password_in_argv():
    for app, name in [("mailboxes", "mailbox"), ("domains", "domain")]:
        actions = _actions(load_command_class(app, name).create_parser("manage.py", name))
        for subparser in actions.choices.values():
            options = {o for a in subparser._actions for o in a.option_strings}
            assert not {o for o in options if "password" in o} - {"--password-stdin"}


def test_real_process_reads_the_password_from_stdin_and_fails_in_one_line(tmp_path):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        DJANGO_SETTINGS_MODULE="mailadmin.settings",
        MAILADMIN_VAR_DIR=str(tmp_path),
        SECRET_KEY="test-only-secret-key",
    )

    def manage(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
        )

    assert manage("migrate", "--no-input", "-v", "0").returncode == 0
    assert manage("domain", "add", "example.com").returncode == 0

    secret = "through stdin only 1"
    args = ("mailbox", "add", "john@example.com", "--password-stdin")
    assert not any(secret in arg for arg in args)
    done = manage(*args, stdin=secret + "\n")
    assert done.returncode == 0, done.stderr
    assert secret not in done.stdout and done.stderr == ""
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        (stored,) = db.execute(
            "SELECT password FROM mailboxes_mailbox WHERE local_part = 'john'"
        ).fetchone()
    assert verify_password(secret, stored)

    refused = manage("mailbox", "add", "a@@b", "--password-stdin", stdin=secret + "\n")
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr == "error: address: “a@@b” is not an e-mail address (local@domain).\n"

    usage = manage("mailbox", "add", "b@example.com", "--quota", "lots")
    assert usage.returncode == 2
    assert usage.stderr.count("\n") == 1
    assert usage.stderr.startswith("error: argument --quota: “lots” is not a size")

    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM mailboxes_mailbox").fetchone() == (1,)
