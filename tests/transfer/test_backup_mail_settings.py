"""A backup carries each mailbox's mail settings (vacation reply, filter rules, spam to Junk)
and its owner's language; the restore checks them with the sieve services' rules and publishes
each mailbox's Sieve script again, so that Dovecot runs the same rules as before. The Sieve
scripts themselves are not in the backup. On every dialect, like tests/transfer/test_backup.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mailadmin.contract.views_v1 import DEFAULT_SIEVE_ID, DEFAULT_SIEVE_SCRIPT
from tests.contract.scenario import BUILD
from tests.support import ContractDB, create_contract_db, drop_contract_db

OWNER = "alice@example.com"

SETTINGS = """
import datetime
from django.utils import timezone
from mailboxes.models import Mailbox, MailboxLogin
from sieve import services as ss
alice = Mailbox.objects.get(local_part="alice", domain__name="example.com")
today = timezone.localdate()
ss.vacation_set(
    actor=None, mailbox=alice, subject="Away until the 20th", body="Back soon.\\nUrgent: bob.",
    days=3, start=today + datetime.timedelta(days=2), end=today + datetime.timedelta(days=20),
    addresses=["team@example.com", "alice@example.com"],
)
news = ss.filter_rule_create(
    actor=None, mailbox=alice, condition="sender", match="contains", value="newsletter",
    action="fileinto", folder="Lists.News",
)
ss.filter_rule_create(
    actor=None, mailbox=alice, condition="header", header_name="List-Id", match="contains",
    value="dev.example.org", action="forward", forward_to="archive@elsewhere.net",
    keep_copy=True,
)
report = ss.filter_rule_create(
    actor=None, mailbox=alice, condition="subject", match="contains", value="[report]",
    action="mark_read", enabled=False,
)
# Positions that differ from the order of creation (and of the primary keys).
ss.filter_rule_move(actor=None, mailbox=alice, rule=report, position=0)
ss.spam_to_junk_set(actor=None, mailbox=alice, enabled=False)
MailboxLogin.objects.filter(mailbox=alice).update(language="uk")
"""

# What Dovecot reads: the panel's script and the owner's language, through the contract views.
DOVECOT = """
import json
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT s.username, s.data_id, s.script, o.language FROM mailadmin_dovecot_sieve s"
        " JOIN mailadmin_dovecot_owner o ON o.username = s.username ORDER BY s.username"
    )
    print(json.dumps([list(row) for row in cursor.fetchall()]))
"""


@dataclass
class Source:
    dialect: str
    data: dict[str, Any]
    dovecot: dict[str, list[str]]


def _dovecot(db: ContractDB) -> dict[str, list[str]]:
    rows = json.loads(db.python(DOVECOT).stdout)
    return {row[0]: row[1:] for row in rows}


def _backup(db: ContractDB, path: Path) -> dict[str, Any]:
    db.manage("backup", "--out", str(path))
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _write(data: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(data))
    return path


def _rows(data: dict[str, Any], model: str) -> list[dict[str, Any]]:
    return [item for item in data["objects"] if item["model"] == model]


def _alice(data: dict[str, Any]) -> int:
    (pk,) = (
        item["pk"]
        for item in _rows(data, "mailboxes.mailbox")
        if item["fields"]["local_part"] == "alice"
    )
    return int(pk)


@pytest.fixture(scope="module", params=["pgsql", "mysql", "sqlite"])
def source(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Source]:
    tmp = tmp_path_factory.mktemp(f"source-{request.param}")
    db = create_contract_db(request.param, tmp)
    try:
        db.python(BUILD + SETTINGS)
        yield Source(request.param, _backup(db, tmp / "backup.json"), _dovecot(db))
    finally:
        drop_contract_db(db)


@pytest.fixture
def target(source: Source, tmp_path: Path) -> Iterator[ContractDB]:
    db = create_contract_db(source.dialect, tmp_path)
    try:
        yield db
    finally:
        drop_contract_db(db)


def test_the_backup_holds_the_settings_and_no_script(source: Source) -> None:
    data = source.data
    assert data["version"] == 2 and "sieve.sievescript" not in data["models"]
    assert not _rows(data, "sieve.sievescript")
    alice = _alice(data)
    (vacation,) = _rows(data, "sieve.vacation")
    assert vacation["pk"] == alice
    fields = vacation["fields"]
    assert fields["enabled"] and fields["days"] == 3 and fields["start"] < fields["end"]
    # In the order of the mailbox's addresses, whatever order they were given in.
    assert fields["addresses"] == ["alice@example.com", "team@example.com"]
    rules = sorted(_rows(data, "sieve.filterrule"), key=lambda item: item["fields"]["position"])
    assert [(r["fields"]["action"], r["fields"]["enabled"]) for r in rules] == [
        ("mark_read", False),
        ("fileinto", True),
        ("forward", True),
    ]
    assert [r["fields"]["mailbox"] for r in rules] == [alice] * 3
    (spam,) = _rows(data, "sieve.sievesettings")
    assert spam["fields"]["spam_to_junk"] is False
    languages = {r["pk"]: r["fields"]["language"] for r in _rows(data, "mailboxes.mailboxlogin")}
    assert languages[alice] == "uk" and set(languages.values()) == {"", "uk"}
    # The script Dovecot ran: the forward, the folder, the reply's addresses, no Junk rule.
    data_id, script, language = source.dovecot[OWNER]
    assert language == "uk" and data_id != DEFAULT_SIEVE_ID
    assert '"archive@elsewhere.net"' in script and '"Lists.News"' in script
    assert '"team@example.com"' in script and "Junk" not in script


def test_a_restore_gives_back_the_settings_and_the_same_script(
    source: Source, target: ContractDB, tmp_path: Path
) -> None:
    path = _write(source.data, tmp_path / "first.json")
    result = target.manage("restore", str(path))
    assert f"{len(source.data['objects'])} objects restored" in result.stdout
    # Settings, keys, times, languages and the audit log as they were (the restore audits
    # nothing of its own) ...
    assert _backup(target, tmp_path / "second.json")["objects"] == source.data["objects"]
    # ... and Dovecot reads the same script under the same id, and the same languages.
    assert _dovecot(target) == source.dovecot
    # A rule written after the restore gets a fresh key (the sequences follow the data).
    target.python(
        "from mailboxes.models import Mailbox\nfrom sieve import services as ss\n"
        "ss.filter_rule_create(actor=None, mailbox=Mailbox.objects.get(local_part='bob'),"
        " condition='subject', match='contains', value='x', action='discard')\n"
    )


def test_an_older_backup_restores_with_the_defaults(
    source: Source, target: ContractDB, tmp_path: Path
) -> None:
    """A version 1 backup made before the sieve app: no settings, no logins."""
    old = copy.deepcopy(source.data)
    old["version"] = 1
    old["objects"] = [
        item
        for item in old["objects"]
        if not item["model"].startswith("sieve.") and item["model"] != "mailboxes.mailboxlogin"
    ]
    target.manage("restore", str(_write(old, tmp_path / "v1.json")))
    dovecot = _dovecot(target)
    assert dovecot.keys() == source.dovecot.keys()
    assert dovecot[OWNER] == [DEFAULT_SIEVE_ID, DEFAULT_SIEVE_SCRIPT, ""]
    assert {language for _id, _script, language in dovecot.values()} == {""}


def test_a_version_1_script_is_published_again_not_restored(
    source: Source, target: ContractDB, tmp_path: Path
) -> None:
    """Version 1 backups held the Sieve scripts: the restore renders each one again."""
    old = copy.deepcopy(source.data)
    old["version"] = 1
    stale = {"data_id": "stale", "script": "discard;\n", "updated_at": "2026-01-01T00:00:00Z"}
    old["objects"].append({"model": "sieve.sievescript", "pk": _alice(old), "fields": stale})
    result = target.manage("restore", str(_write(old, tmp_path / "v1.json")))
    assert f"{len(source.data['objects'])} objects restored" in result.stdout
    assert _dovecot(target) == source.dovecot


def _forwarding_rule(data: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in _rows(data, "sieve.filterrule") if r["fields"]["action"] == "forward")


def _folder_rule(data: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in _rows(data, "sieve.filterrule") if r["fields"]["action"] == "fileinto")


def test_a_backup_whose_settings_break_a_rule_is_refused_and_changes_nothing(
    source: Source, target: ContractDB, tmp_path: Path
) -> None:
    forward_pk = _forwarding_rule(source.data)["pk"]
    folder_pk = _folder_rule(source.data)["pk"]
    alice = _alice(source.data)

    no_forwarding = copy.deepcopy(source.data)
    for item in _rows(no_forwarding, "domains.domain"):
        if item["fields"]["name"] == "example.com":
            item["fields"]["owner_forwarding"] = "off"
    control = copy.deepcopy(source.data)
    _folder_rule(control)["fields"]["folder"] = "Lists.\x07News"
    wildcard = copy.deepcopy(source.data)
    _folder_rule(wildcard)["fields"]["folder"] = "Lists.*"
    stranger = copy.deepcopy(source.data)
    (reply,) = _rows(stranger, "sieve.vacation")
    reply["fields"]["addresses"] = ["alice@example.com", "bob@example.com"]
    language = copy.deepcopy(source.data)
    next(r for r in _rows(language, "mailboxes.mailboxlogin") if r["pk"] == alice)["fields"][
        "language"
    ] = "de; rm -rf"
    cases = [
        (
            no_forwarding,
            f"sieve.filterrule {forward_pk} ({OWNER}, rule 3): forward_to: "
            "Your mail administrator does not allow forwarding.",
        ),
        (
            control,
            f"sieve.filterrule {folder_pk} ({OWNER}, rule 2): folder: "
            "This text holds a character that is not allowed",
        ),
        (wildcard, f"sieve.filterrule {folder_pk} ({OWNER}, rule 2): folder: "),
        (
            stranger,
            f"sieve.vacation {alice} ({OWNER}): addresses: "
            "bob@example.com is not an address of this mailbox.",
        ),
        (language, f"mailboxes.mailboxlogin {alice}: language 'de; rm -rf' is none of"),
    ]
    for number, (data, message) in enumerate(cases):
        result = target.manage(
            "restore", str(_write(data, tmp_path / f"bad{number}.json")), check=False
        )
        assert result.returncode == 1, result.stdout
        assert message in result.stderr and "nothing was restored" in result.stderr
        # Nothing written: the same database takes the good backup afterwards.
    target.manage("restore", str(_write(source.data, tmp_path / "good.json")))
    assert _dovecot(target) == source.dovecot
