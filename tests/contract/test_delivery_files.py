"""The delivery part of the export: LMTP by default, virtual(8) on request, SQLite without the
usage copy; the Dovecot file judged by the real doveconf, the warning script by the real sh.

The whole flow (Postfix -> LMTP -> Dovecot, 552 at RCPT, usage, warnings) is in
tests/e2e/test_quota.py; these tests pin what each export choice writes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mailadmin.contract.dovecot_delivery import DELIVERY_CONF, DICT_CONF, QUOTA_WARNING_SCRIPT
from mailadmin.contract.files import render_all
from mailadmin.contract.target import Target
from tests.support import require_tool

POLICY = "check_policy_service unix:private/quota-status"


def files(**options: object) -> dict[str, str]:
    dialect = str(options.pop("dialect", "pgsql"))
    database = "/var/lib/mailadmin/mailadmin.sqlite3" if dialect == "sqlite" else "mail"
    return render_all(Target(dialect=dialect, database=database, **options))  # type: ignore[arg-type]


def settings_of(conf: str) -> str:
    """The lines Dovecot reads, without the comments that explain them."""
    return "\n".join(line for line in conf.splitlines() if not line.lstrip().startswith("#"))


def main_cf(rendered: dict[str, str]) -> dict[str, str]:
    lines = [line for line in rendered["postfix/main.cf.lines"].splitlines() if " = " in line]
    return dict(line.split(" = ", 1) for line in lines if not line.startswith("#"))


def test_lmtp_is_the_default_and_quota_is_asked_before_anyone_may_relay() -> None:
    rendered = files(tls_cert="/etc/ssl/c.pem", tls_key="/etc/ssl/k.pem")
    cf = main_cf(rendered)
    assert cf["virtual_transport"] == "lmtp:unix:private/dovecot-lmtp"
    restrictions = [r.strip() for r in cf["smtpd_recipient_restrictions"].split(",")]
    # Local clients too: a full mailbox refuses them at RCPT rather than bouncing later.
    assert restrictions.index(POLICY) < restrictions.index("permit_mynetworks")
    assert restrictions[-1] == "reject_unauth_destination"
    assert cf["smtpd_policy_service_default_action"] == "DUNNO"
    # Dovecot 2.3's LMTP cannot take SMTPUTF8 mail: not offered, rather than bounced later.
    assert cf["smtputf8_enable"] == "no"
    submission = rendered["postfix/master.cf.lines"]
    assert "check_policy_service,unix:private/quota-status,permit_sasl_authenticated" in submission
    delivery = rendered[f"dovecot/{DELIVERY_CONF}"]
    for line in (
        "protocols = $protocols lmtp sieve",
        "unix_listener /var/spool/postfix/private/dovecot-lmtp {",
        "executable = quota-status -p postfix",
        # Never OK: the policy service only refuses, so nothing passes it that would not
        # pass without it (test_main_cf checks the restrictions around it).
        "quota_status_success = DUNNO",
        "quota_status_nouser = DUNNO",
        'quota_status_overquota = "552 5.2.2 Mailbox is full"',
        "quota_clone_dict = proxy::mailadmin",
        "sieve_before = dict:proxy::mailadmin;name=panel;bindir=~/sieve-bin",
        "inet_listener sieve {",
    ):
        assert line in delivery, line


def test_virtual_delivery_has_no_lmtp_no_policy_and_no_sieve() -> None:
    rendered = files(delivery="virtual")
    cf = main_cf(rendered)
    assert cf["virtual_transport"] == "virtual"
    assert "check_policy_service" not in rendered["postfix/main.cf.lines"]
    assert "smtpd_policy_service_default_action" not in cf
    assert "smtputf8_enable" not in cf  # virtual(8) delivers SMTPUTF8 mail
    delivery = settings_of(rendered[f"dovecot/{DELIVERY_CONF}"])
    assert "lmtp" not in delivery
    assert "sieve" not in delivery.lower()
    assert "quota-status" not in delivery
    # IMAP still counts and copies the usage.
    assert "quota = count:User quota" in delivery and "quota_clone_dict" in delivery


def test_sqlite_never_lets_dovecot_write_the_panels_file() -> None:
    rendered = files(dialect="sqlite")
    delivery = settings_of(rendered[f"dovecot/{DELIVERY_CONF}"])
    assert "quota_clone" not in delivery
    dict_conf = rendered[f"dovecot/{DICT_CONF}"]
    assert "priv/quota" not in dict_conf
    assert "priv/sieve/name/$name" in dict_conf and "priv/sieve/data/$id" in dict_conf


def test_sockets_outside_the_queue_are_named_by_their_whole_path() -> None:
    cf = main_cf(
        files(lmtp_socket="/run/dovecot/lmtp", quota_status_socket="/run/dovecot/quota-status")
    )
    assert cf["virtual_transport"] == "lmtp:unix:/run/dovecot/lmtp"
    assert (
        "check_policy_service unix:/run/dovecot/quota-status" in cf["smtpd_recipient_restrictions"]
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("delivery", "procmail"),
        ("mail_group", "bad group"),
        ("managesieve_port", 70000),
        ("submission_host", "mx.example.net"),
        ("lmtp_socket", "relative/lmtp"),
        ("dovecot_conf", "/etc/dovecot/../shadow"),
    ],
)
def test_bad_delivery_options_are_refused(option: str, value: object) -> None:
    with pytest.raises(ValueError):
        files(**{option: value})


@pytest.mark.tools
@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
@pytest.mark.parametrize("delivery", ["lmtp", "virtual"])
def test_doveconf_accepts_the_delivery_file(tmp_path: Path, dialect: str, delivery: str) -> None:
    doveconf = require_tool("doveconf")
    rendered = files(dialect=dialect, delivery=delivery, submission_host="127.0.0.1:2525")
    include = tmp_path / DELIVERY_CONF
    include.write_text(rendered[f"dovecot/{DELIVERY_CONF}"], encoding="utf-8")
    conf = tmp_path / "dovecot.conf"
    conf.write_text(
        f"base_dir = {tmp_path}/run\nstate_dir = {tmp_path}/state\nprotocols = imap\n"
        f"!include {include}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [doveconf, "-c", str(conf), "-n"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines() if "Warning" in line], result.stderr
    if delivery == "lmtp":
        assert "submission_host = 127.0.0.1:2525" in result.stdout


@pytest.mark.tools
@pytest.mark.parametrize(
    "args", [["75", "ann@example.com"], ["80", "not-an-address"], ["80", "a@b.c\nTo: x"]]
)
def test_the_warning_script_takes_only_what_dovecot_sends(tmp_path: Path, args: list[str]) -> None:
    script = tmp_path / QUOTA_WARNING_SCRIPT
    script.write_text(files()[f"dovecot/{QUOTA_WARNING_SCRIPT}"], encoding="utf-8")
    assert subprocess.run([require_tool("sh"), "-n", str(script)]).returncode == 0
    result = subprocess.run(["sh", str(script), *args], capture_output=True, text=True)
    assert result.returncode == 64, result.stderr


def test_the_warning_speaks_both_languages() -> None:
    script = files()[f"dovecot/{QUOTA_WARNING_SCRIPT}"]
    assert 'SUBJECT="Mailbox usage: $PERCENT%"' in script
    # The Ukrainian label is an RFC 2047 encoded word; the figure stays outside it.
    assert 'SUBJECT="=?utf-8?b?' in script and '?= $PERCENT%"' in script
    assert "Ваша поштова скринька $USER заповнена на $PERCENT%." in script
