"""export_maps --doveadm-port: doveadm's HTTP listener for the panel, its API key made once and
kept in the secrets file, written into delivery-mailadmin.conf.ext and nowhere else, never
printed; TLS when the listener is reachable from other hosts. The listener as Dovecot runs it
is in tests/e2e/test_managesieve.py."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from mailadmin.contract.config_page import HIDDEN, config_files
from mailadmin.contract.dovecot_delivery import DELIVERY_CONF
from mailadmin.contract.export import DOVEADM_API_KEY, SECRETS_FILE
from mailadmin.contract.files import render_all
from mailadmin.contract.target import Target
from tests.postfix_harness import self_signed_certificate
from tests.support import require_tool

pytestmark = pytest.mark.django_db

KEY = "k" * 32


def export(out: Path, *args: str) -> str:
    stdout = io.StringIO()
    call_command("export_maps", "--dialect", "sqlite", "--db-url", "sqlite:////var/lib/m.sqlite3",
                 "--out", str(out), *args, stdout=stdout)  # fmt: skip
    return stdout.getvalue()


def kept(out: Path) -> dict[str, str]:
    return json.loads((out / SECRETS_FILE).read_text())


def written(out: Path) -> dict[str, str]:
    return {
        str(path.relative_to(out)): path.read_text()
        for path in out.rglob("*")
        if path.is_file() and path.name != SECRETS_FILE
    }


def test_no_listener_and_no_key_by_default(tmp_path: Path) -> None:
    export(tmp_path)
    assert "doveadm" not in written(tmp_path)[f"dovecot/{DELIVERY_CONF}"]
    assert not (tmp_path / SECRETS_FILE).exists()  # SQLite: no role passwords either


def test_the_key_is_made_once_kept_and_written_into_the_delivery_file_only(
    tmp_path: Path,
) -> None:
    printed = export(tmp_path, "--doveadm-port", "8080")
    key = kept(tmp_path)[DOVEADM_API_KEY]
    assert len(key) == 32 and key.isalnum()
    assert (tmp_path / SECRETS_FILE).stat().st_mode & 0o777 == 0o600
    assert key not in printed
    holding = [path for path, text in written(tmp_path).items() if key in text]
    assert holding == [f"dovecot/{DELIVERY_CONF}"]
    delivery = written(tmp_path)[f"dovecot/{DELIVERY_CONF}"]
    assert f"doveadm_api_key = {key}" in delivery
    assert "inet_listener http {\n    address = 127.0.0.1\n    port = 8080\n  }" in delivery
    assert "ssl = yes" not in delivery  # loopback: nothing crosses a network
    # The next export keeps it; --rotate-passwords is about the roles, not the key.
    export(tmp_path, "--doveadm-port", "8080", "--rotate-passwords")
    assert kept(tmp_path)[DOVEADM_API_KEY] == key
    export(tmp_path, "--doveadm-port", "8080", "--rotate-api-key")
    assert kept(tmp_path)[DOVEADM_API_KEY] != key


def test_rotating_the_role_passwords_keeps_the_key(tmp_path: Path) -> None:
    args = ("--dialect", "pgsql", "--db-url", "postgresql://db/mail", "--out", str(tmp_path))
    call_command("export_maps", *args, "--doveadm-port", "8080", stdout=io.StringIO())
    before = kept(tmp_path)
    call_command("export_maps", *args, "--doveadm-port", "8080", "--rotate-passwords",
                 stdout=io.StringIO())  # fmt: skip
    after = kept(tmp_path)
    assert after[DOVEADM_API_KEY] == before[DOVEADM_API_KEY]
    assert after["mailadmin_postfix"] != before["mailadmin_postfix"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--doveadm-listen", "192.0.2.10"], "--tls-cert"),
        (["--doveadm-listen", "mail.example.com"], "an IP address"),
        (["--delivery", "virtual"], "--delivery lmtp"),
        (["--managesieve-port", "8080"], "different ports"),
    ],
)
def test_listeners_that_cannot_work_safely_are_refused(
    tmp_path: Path, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        export(tmp_path, "--doveadm-port", "8080", *args)


def test_a_listener_other_hosts_reach_speaks_tls(tmp_path: Path) -> None:
    target = Target(
        dialect="sqlite",
        database="/var/lib/m.sqlite3",
        tls_cert="/etc/ssl/c.pem",
        tls_key="/etc/ssl/k.pem",
        doveadm_port=8080,
        doveadm_listen="192.0.2.10",
        doveadm_api_key=KEY,
    )
    target.check()
    delivery = render_all(target)[f"dovecot/{DELIVERY_CONF}"]
    assert "    address = 192.0.2.10\n    port = 8080\n" in delivery
    assert "    ssl = yes\n" in delivery


@pytest.mark.tools
@pytest.mark.parametrize("listen", ["127.0.0.1", "192.0.2.10"])
def test_doveconf_accepts_the_listener_and_hides_the_key(tmp_path: Path, listen: str) -> None:
    doveconf = require_tool("doveconf")
    cert, key = self_signed_certificate(tmp_path / "tls")
    files = render_all(
        Target(
            dialect="pgsql",
            database="mail",
            tls_cert=str(cert),
            tls_key=str(key),
            doveadm_port=8080,
            doveadm_listen=listen,
            doveadm_api_key=KEY,
        )
    )
    include = tmp_path / DELIVERY_CONF
    include.write_text(files[f"dovecot/{DELIVERY_CONF}"], encoding="utf-8")
    conf = tmp_path / "dovecot.conf"
    conf.write_text(
        f"base_dir = {tmp_path}/run\nstate_dir = {tmp_path}/state\nprotocols = imap\n"
        f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n!include {include}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [doveconf, "-c", str(conf), "-n"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines() if "Warning" in line], result.stderr
    assert KEY not in result.stdout and "doveadm_api_key = # hidden" in result.stdout
    assert f"address = {listen}" in result.stdout


def test_the_config_page_hides_the_key() -> None:
    target = Target(dialect="pgsql", database="mail", doveadm_port=8080, doveadm_api_key=KEY)
    shown = {item.path: item for item in config_files(reveal=False, target=target)}
    delivery = shown[f"dovecot/{DELIVERY_CONF}"]
    assert delivery.has_secret and KEY not in delivery.content
    assert f"doveadm_api_key = {HIDDEN}" in delivery.content
