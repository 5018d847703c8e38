"""The CLI's update actions (`domain set`, `mailbox set`, enable/disable of aliases and alias
domains) and the `--json` output of every list and show, against the fields docs/cli.md
documents."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import LoginKind, LoginThrottle
from audit.models import AuditEntry
from domains import relay
from domains import services as domain_services
from domains.models import AliasDomain, Domain
from mailboxes.models import Alias, Mailbox
from sieve import services as sieve_services
from tests import factories as f
from tests.support import ROOT
from tests.test_cli import fails, run

pytestmark = pytest.mark.django_db

GiB = 1024**3


def run_with_stderr(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, stdin=StringIO(""))
    return out.getvalue(), err.getvalue()


def documented_fields() -> dict[str, list[str]]:
    """`### domain list` → the field names of the table under it in docs/cli.md; a show that
    says "The fields of `X list`, and:" gets those too."""
    text = (ROOT / "docs" / "cli.md").read_text()
    sections: dict[str, list[str]] = {}
    for heading, body in re.findall(r"^### (.+?)\n(.*?)(?=^### |\Z)", text, re.M | re.S):
        fields = re.findall(r"^\| `([a-z_.]+)` \|", body, re.M)
        inherited = re.search(r"The fields of `(.+?)`, and:", body)
        if inherited:
            fields = sections[inherited.group(1)] + fields
        sections[heading.strip()] = fields
    return sections


def keys(record: dict, prefix: str = "") -> list[str]:
    found = []
    for key, value in record.items():
        found.append(prefix + key)
        if isinstance(value, dict):
            found.extend(keys(value, prefix=f"{prefix}{key}."))
    return found


def as_json(*args: str):
    return json.loads(run(*args, "--json"))


# --- domain set ---------------------------------------------------------------------------------


def test_domain_set_changes_only_the_named_settings_and_audits_them():
    f.domain("example.com", description="shop", max_mailboxes=10, max_mailbox_quota=GiB)
    out = run("domain", "set", "example.com", "--max-mailboxes", "500", "--max-quota", "5G")
    assert out.strip() == (
        "Changed domain example.com: max-mailboxes 10 → 500, max-mailbox-quota 1 GiB → 5 GiB."
    )
    domain = Domain.objects.get(name="example.com")
    assert (domain.max_mailboxes, domain.max_mailbox_quota, domain.description) == (
        500,
        5 * GiB,
        "shop",
    )
    entry = AuditEntry.objects.filter(object_type="domain", action="update").get()
    assert entry.changes == {"max_mailboxes": [10, 500], "max_mailbox_quota": [GiB, 5 * GiB]}
    assert entry.actor_label == "system"


def test_domain_set_uid_default_returns_to_the_servers():
    f.domain("example.com", uid=5001, gid=5001)
    out = run("domain", "set", "example.com", "--uid", "default", "--gid", "5002")
    assert "uid 5001 → default, gid 5001 → 5002" in out
    domain = Domain.objects.get(name="example.com")
    assert (domain.uid, domain.gid) == (None, 5002)


def test_domain_set_refuses_bad_values_with_one_line_and_changes_nothing():
    f.domain("example.com")
    assert "transport" in fails("domain", "set", "example.com", "--transport", "smtp:[mx example]")
    assert "relay" in fails("domain", "set", "example.com", "--delivery", "relay").lower()
    assert "at least one setting" in fails("domain", "set", "example.com")
    assert "no such domain" in fails("domain", "set", "nowhere.example", "--max-aliases", "1")
    with pytest.raises(Exception, match="neither a number nor 'default'"):
        run("domain", "set", "example.com", "--uid", "root")
    assert not AuditEntry.objects.filter(action="update").exists()


def test_domain_set_warns_on_stderr_when_a_limit_is_below_the_use():
    f.domain("example.com")
    for name in ("a", "b", "c"):
        f.mailbox(f"{name}@example.com")
    out, err = run_with_stderr("domain", "set", "example.com", "--max-mailboxes", "2")
    assert out.startswith("Changed domain example.com: max-mailboxes 0 → 2")
    assert err.strip() == (
        "warning: example.com has 3 mailboxes, more than its maximum of 2: no mailbox can be "
        "added until some are deleted."
    )
    assert Domain.objects.get(name="example.com").max_mailboxes == 2


def test_domain_set_with_the_values_it_has_says_nothing_changed():
    f.domain("example.com", max_aliases=5)
    out = run("domain", "set", "example.com", "--max-aliases", "5")
    assert out.strip() == "Nothing changed: example.com already has these settings."
    assert not AuditEntry.objects.filter(action="update").exists()


# --- mailbox set --------------------------------------------------------------------------------


def test_mailbox_set_changes_quota_and_name():
    f.domain("example.com", max_mailbox_quota=10 * GiB)
    f.mailbox("john@example.com", quota=GiB, name="John")
    out = run("mailbox", "set", "john@example.com", "--quota", "2G", "--name", "John Smith")
    assert out.strip() == (
        "Changed mailbox john@example.com: name 'John' → 'John Smith', quota 1 GiB → 2 GiB."
    )
    mailbox = Mailbox.objects.get(local_part="john")
    assert (mailbox.quota, mailbox.name) == (2 * GiB, "John Smith")
    entry = AuditEntry.objects.filter(object_type="mailbox", action="update").get()
    assert entry.changes == {"name": ["John", "John Smith"], "quota": [GiB, 2 * GiB]}


def test_mailbox_set_refuses_a_quota_over_the_domains_maximum():
    f.domain("example.com", max_mailbox_quota=GiB)
    f.mailbox("john@example.com", quota=GiB)
    message = fails("mailbox", "set", "john@example.com", "--quota", "2G")
    assert "quota" in message and "1 GiB" in message
    with pytest.raises(Exception, match="unit"):
        run("mailbox", "set", "john@example.com", "--quota", "5")


def test_mailbox_set_uid_and_gid_and_back_to_the_domains():
    f.domain("example.com")
    f.mailbox("john@example.com")
    run("mailbox", "set", "john@example.com", "--uid", "5003", "--gid", "5003")
    assert Mailbox.objects.values_list("uid", "gid").get() == (5003, 5003)
    out = run("mailbox", "set", "john@example.com", "--uid", "default")
    assert "uid 5003 → default" in out
    assert Mailbox.objects.values_list("uid", "gid").get() == (None, 5003)
    assert "uid" in fails("mailbox", "set", "john@example.com", "--uid", "0")


def test_mailbox_set_needs_a_setting():
    f.domain("example.com")
    f.mailbox("john@example.com")
    assert "at least one setting" in fails("mailbox", "set", "john@example.com")


# --- enable and disable -------------------------------------------------------------------------


def test_alias_disable_and_enable():
    f.domain("example.com")
    f.mailbox("john@example.com")
    f.alias("team@example.com", "john@example.com")
    out = run("alias", "disable", "team@example.com")
    assert out.strip() == "Disabled alias team@example.com: it forwards nothing until enabled."
    assert not Alias.objects.get(local_part="team").active
    out = run("alias", "enable", "team@example.com")
    assert out.strip() == "Enabled alias team@example.com → john@example.com."
    assert Alias.objects.get(local_part="team").active
    actions = AuditEntry.objects.filter(object_type="alias").values_list("action", flat=True)
    assert sorted(actions) == ["create", "disable", "enable"]
    assert "no such alias" in fails("alias", "disable", "nobody@example.com")


def test_aliasdomain_disable_and_enable():
    f.domain("example.com")
    domain_services.alias_domain_create(actor=None, name="example.net", target="example.com")
    out = run("aliasdomain", "disable", "example.net")
    assert out.strip() == (
        "Disabled alias domain example.net: it receives no mail for example.com's addresses "
        "until enabled."
    )
    assert not AliasDomain.objects.get(name="example.net").active
    assert run("aliasdomain", "enable", "example.net").strip() == (
        "Enabled alias domain example.net."
    )
    assert AliasDomain.objects.get(name="example.net").active
    assert "no such alias domain" in fails("aliasdomain", "enable", "example.org")


# --- --json -------------------------------------------------------------------------------------


@pytest.fixture
def provisioned(db):
    """One of everything a list or show prints, IDN included."""
    shop = f.domain("bücher.example", description="books", max_mailboxes=10, uid=5001, gid=5001)
    f.mailbox("anna@bücher.example", quota=2 * GiB, name="Anna")
    f.mailbox("ben@bücher.example", quota=0)
    f.alias("team@bücher.example", "anna@bücher.example", "ben@bücher.example")
    f.alias("@bücher.example", "anna@bücher.example")
    domain_services.alias_domain_create(actor=None, name="books.example", target="bücher.example")
    domain_services.alias_domain_grant_create(actor=None, name="libri.example", domain=shop)
    f.domain("relay.example", delivery="relay", transport="smtp:[192.0.2.1]:25")
    relay.relay_recipient_add(
        actor=None, domain=Domain.objects.get(name="relay.example"), local_part="info"
    )
    f.domain_admin("clerk", shop)
    LoginThrottle.objects.create(
        kind=LoginKind.ADMIN,
        identity="clerk",
        network="192.0.2.0",
        failures=7,
        blocked_until=timezone.now() + timedelta(minutes=5),
        last_failure=timezone.now(),
        expires_at=timezone.now() + timedelta(days=1),
    )
    sieve_services.vacation_set(
        actor=None,
        mailbox=Mailbox.objects.get(local_part="anna"),
        subject="Away",
        body="Back in May.",
        start=date(2027, 4, 1),
        end=date(2027, 4, 30),
    )
    return shop


JSON_OUTPUTS = [
    ("domain list", ("domain", "list")),
    ("domain show", ("domain", "show", "bücher.example")),
    ("mailbox list", ("mailbox", "list")),
    ("mailbox show", ("mailbox", "show", "anna@bücher.example")),
    ("alias list", ("alias", "list")),
    ("alias show", ("alias", "show", "team@bücher.example")),
    ("aliasdomain list", ("aliasdomain", "list")),
    ("aliasdomain allowed", ("aliasdomain", "allowed")),
    ("relayrecipient list", ("relayrecipient", "list", "relay.example")),
    ("admin list", ("admin", "list")),
    ("admin throttles", ("admin", "throttles")),
    ("server show", ("server", "show")),
    ("vacation show", ("vacation", "show", "anna@bücher.example")),
]


@pytest.mark.parametrize(("section", "command"), JSON_OUTPUTS, ids=[s for s, _c in JSON_OUTPUTS])
def test_json_output_has_exactly_the_documented_fields(provisioned, section, command):
    documented = documented_fields()[section]
    parsed = as_json(*command)
    records = parsed if isinstance(parsed, list) else [parsed]
    assert records, f"{section} printed no record"
    for record in records:
        assert sorted(keys(record)) == sorted(documented), section


def test_every_list_and_show_action_takes_json():
    """A list or show added later without --json (or without its docs) fails here."""
    from django.core.management import get_commands, load_command_class

    covered = {section for section, _command in JSON_OUTPUTS}
    for name in ("domain", "mailbox", "alias", "aliasdomain", "relayrecipient", "admin"):
        command = load_command_class(get_commands()[name], name)
        parser = command.create_parser("manage.py", name)
        actions = command._subparsers.choices  # type: ignore[attr-defined]
        for action, subparser in actions.items():
            if action in {"list", "show", "allowed", "throttles"}:
                options = {o for a in subparser._actions for o in a.option_strings}
                assert "--json" in options, f"{name} {action}"
                assert f"{name} {action}" in covered, f"{name} {action}"
        del parser


def test_json_values_are_machine_values(provisioned):
    [domain] = [d for d in as_json("domain", "list") if d["ascii_name"] == "xn--bcher-kva.example"]
    assert domain == {
        "name": "bücher.example",
        "ascii_name": "xn--bcher-kva.example",
        "description": "books",
        "delivery": "hosted",
        "transport": "",
        "active": True,
        "mailboxes": 2,
        "aliases": 2,
        "max_mailboxes": 10,
        "max_aliases": 0,
        "max_mailbox_quota": 0,
        "total_quota": 0,
        "default_mailbox_quota": 0,
        "created": domain["created"],
    }
    assert datetime.fromisoformat(domain["created"]).utcoffset() is not None
    shown = as_json("domain", "show", "xn--bcher-kva.example")
    assert shown["alias_domains"] == ["books.example"]
    assert shown["admins"] == ["clerk"]
    assert (shown["uid"], shown["effective_uid"], shown["quota_allocated"]) == (5001, 5001, 2 * GiB)

    mailboxes = as_json("mailbox", "list", "--domain", "bücher.example")
    assert [(m["address"], m["ascii_address"], m["quota"]) for m in mailboxes] == [
        ("anna@bücher.example", "anna@xn--bcher-kva.example", 2 * GiB),
        ("ben@bücher.example", "ben@xn--bcher-kva.example", 0),
    ]
    anna = as_json("mailbox", "show", "anna@bücher.example")
    assert (anna["used_bytes"], anna["usage_reported"], anna["uid"]) == (None, None, None)

    aliases = {a["address"]: a for a in as_json("alias", "list")}
    assert aliases["@bücher.example"]["catchall"] is True
    assert aliases["team@bücher.example"]["destinations"] == [
        "anna@xn--bcher-kva.example",
        "ben@xn--bcher-kva.example",
    ]
    [throttle] = as_json("admin", "throttles")
    assert throttle["failures"] == 7 and 0 < throttle["wait_seconds"] <= 300
    assert as_json("relayrecipient", "list", "relay.example")["recipients"] == ["info"]
    vacation = as_json("vacation", "show", "anna@bücher.example")["vacation"]
    assert (vacation["start"], vacation["end"], vacation["subject"]) == (
        "2027-04-01",
        "2027-04-30",
        "Away",
    )
    assert as_json("vacation", "show", "ben@bücher.example")["vacation"] is None


def test_json_lists_that_match_nothing_are_empty_arrays():
    assert as_json("domain", "list") == []
    assert as_json("mailbox", "list", "--search", "nobody") == []
    assert as_json("alias", "list") == []
    assert as_json("aliasdomain", "list") == []
