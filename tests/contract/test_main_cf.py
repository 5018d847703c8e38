"""The exported main.cf lines, applied by the real postconf, and the exporter's safety rules.

The lines go onto a copy of the installed /etc/postfix/main.cf and master.cf in a temporary
configuration directory (`postconf -c DIR -e`), as an operator would apply them, and
`postconf -c DIR -n` must then show every one of them. The lines must keep Postfix from being
an open relay: reject_unauth_destination and a narrow mynetworks.
"""

from __future__ import annotations

import ipaddress
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from mailadmin.contract.queries import MAIN_CF_MAPS
from tests.contract.conftest import SECRETS_FILE, World, Worlds, export_maps, postmap_query
from tests.support import require_tool

pytestmark = pytest.mark.tools


def exported_lines(world: World) -> dict[str, str]:
    """parameter -> value of the exported main.cf.lines (comments left out)."""
    text = (world.out / "postfix" / "main.cf.lines").read_text()
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    pairs = [line.split("=", 1) for line in lines]
    return {name.strip(): value.strip() for name, value in pairs}


def postconf(config_dir: Path, *args: str) -> str:
    result = subprocess.run(
        [require_tool("postconf"), "-c", str(config_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # no warning (unknown or misspelt parameters)
    return result.stdout


@pytest.fixture(scope="module")
def applied(world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`postconf -n` of the installed configuration with the exported lines applied."""
    config_dir = tmp_path_factory.mktemp(f"postfix-{world.dialect}")
    for name in ("main.cf", "master.cf"):
        installed = Path("/etc/postfix") / name
        if installed.exists():
            shutil.copyfile(installed, config_dir / name)
        else:
            (config_dir / name).touch()
    lines = [f"{name} = {value}" for name, value in exported_lines(world).items()]
    postconf(config_dir, "-e", *lines)
    shown = {}
    for line in postconf(config_dir, "-n").splitlines():
        name, _, value = line.partition(" = ")
        shown[name] = value
    return shown


def test_postconf_shows_every_exported_line(world: World, applied: dict[str, str]) -> None:
    expected = exported_lines(world)
    assert len(expected) >= len(MAIN_CF_MAPS) + 5
    assert {name: applied.get(name) for name in expected} == expected


def test_relay_restrictions_end_with_reject_unauth_destination(
    world: World, applied: dict[str, str]
) -> None:
    for parameter in ("smtpd_relay_restrictions", "smtpd_recipient_restrictions"):
        restrictions = applied[parameter].replace(",", " ").split()
        assert restrictions[-1] == "reject_unauth_destination", parameter
        # Nothing before it lets an arbitrary client through: only our recipient-access table,
        # whose view answers with nothing but a 5xx refusal (tested in test_postmap).
        while "check_recipient_access" in restrictions:
            at = restrictions.index("check_recipient_access")
            assert restrictions[at + 1] == world.table("recipient_access"), parameter
            del restrictions[at : at + 2]
        # Dovecot's quota-status answers DUNNO or 552 (delivery-mailadmin.conf.ext), never OK:
        # it refuses a full mailbox and lets everything else go on to the next restriction.
        while "check_policy_service" in restrictions:
            at = restrictions.index("check_policy_service")
            assert restrictions[at + 1] == "unix:private/quota-status", parameter
            del restrictions[at : at + 2]
        # reject_non_fqdn_recipient only refuses.
        allowed = {"permit_mynetworks", "permit_sasl_authenticated", "reject_non_fqdn_recipient"}
        assert set(restrictions[:-1]) <= allowed


def test_mynetworks_is_loopback_only(applied: dict[str, str]) -> None:
    networks = [
        ipaddress.ip_network(entry.replace("[", "").replace("]", ""))
        for entry in applied["mynetworks"].replace(",", " ").split()
    ]
    assert networks
    assert all(network.is_loopback for network in networks), networks


def test_other_safety_lines(world: World, applied: dict[str, str]) -> None:
    # The machine's own names stay local; hosted domains are never in mydestination.
    assert applied["mydestination"] == "$myhostname, localhost.$mydomain, localhost"
    assert applied["smtpd_reject_unlisted_recipient"] == "yes"
    assert applied["virtual_minimum_uid"] == str(settings.MAILADMIN_MIN_UID) == "1000"
    sender = [item.strip() for item in applied["smtpd_sender_restrictions"].split(",")]
    assert sender == [
        "permit_mynetworks",
        "reject_non_fqdn_sender",
        "reject_unknown_sender_domain",
        f"check_sender_access {world.table('sender_login_access')}",
    ]
    assert "reject_non_fqdn_recipient" in applied["smtpd_recipient_restrictions"]
    assert applied["smtpd_helo_required"] == "yes"
    assert applied["disable_vrfy_command"] == "yes"
    assert applied["message_size_limit"] == str(settings.MAILADMIN_MESSAGE_SIZE_LIMIT)
    assert applied["recipient_delimiter"] == settings.MAILADMIN_RECIPIENT_DELIMITER == "+"
    assert applied["propagate_unmatched_extensions"] == "canonical"
    # SMTP AUTH is for the submission services of master.cf.lines only.
    assert applied["smtpd_sasl_auth_enable"] == "no"
    assert applied["smtpd_tls_auth_only"] == "yes"


def test_relay_domains_do_not_match_subdomains(applied: dict[str, str]) -> None:
    """Postfix's default lets relay_domains answer for every subdomain of its entries."""
    default = postconf(Path("/etc/postfix"), "-d", "-h", "parent_domain_matches_subdomains")
    expected = [item for item in default.replace(",", " ").split() if item != "relay_domains"]
    assert "relay_domains" in default
    assert applied["parent_domain_matches_subdomains"].replace(",", " ").split() == expected


def test_sender_login_access_refuses_only_owned_addresses(world: World) -> None:
    table = world.table("sender_login_access")
    answer = postmap_query(table, "alice@example.com")
    assert answer is not None and answer.startswith("553 5.7.1 ")
    assert postmap_query(table, "Alice@Example.COM") == answer
    assert postmap_query(table, "nobody@example.com") is None  # the catch-all grants nothing
    assert postmap_query(table, "example.com") is None  # access-table keys without a user
    assert postmap_query(table, "alice@") is None


def test_no_tls_lines_and_no_submission_without_a_certificate(world: World) -> None:
    main_cf = (world.out / "postfix" / "main.cf.lines").read_text()
    assert "smtpd_tls_chain_files" not in main_cf and "\n# No TLS lines:" in main_cf
    master_cf = (world.out / "postfix" / "master.cf.lines").read_text()
    body = [line for line in master_cf.splitlines()[1:] if not line.startswith("#")]
    assert body == [] and "# No submission service:" in master_cf
    dovecot = (world.out / "dovecot" / "auth-mailadmin.conf.ext").read_text()
    assert "ssl_cert" not in dovecot and "\nrecipient_delimiter =\n" in dovecot


def test_master_cf_lines_add_the_submission_services(
    world: World, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path / "out"
    cert, key = "/etc/ssl/mail/fullchain.pem", "/etc/ssl/mail/privkey.pem"
    export_maps(world.db, out, "--tls-cert", cert, "--tls-key", key)
    config_dir = tmp_path_factory.mktemp("postfix-master")
    for name in ("main.cf", "master.cf"):
        installed = Path("/etc/postfix") / name
        if installed.exists():
            shutil.copyfile(installed, config_dir / name)
        else:
            (config_dir / name).touch()
    main_cf = (out / "postfix" / "main.cf.lines").read_text()
    assert f"\nsmtpd_tls_chain_files = {key}, {cert}\n" in main_cf
    for line in (out / "postfix" / "master.cf.lines").read_text().splitlines():
        if line and not line.startswith("#"):
            name = line.split(" = ", 1)[0]
            postconf(config_dir, "-P" if name.count("/") == 2 else "-M", "-e", line)
    services = postconf(config_dir, "-M", "submission/inet", "submissions/inet")
    assert "submission inet n - - - - smtpd" in " ".join(services.split())
    assert "submissions inet n - - - - smtpd" in " ".join(services.split())
    overrides = {}
    for line in postconf(config_dir, "-P").splitlines():
        name, _, value = line.partition(" = ")
        overrides[name] = value
    for service in ("submission/inet", "submissions/inet"):
        assert overrides[f"{service}/smtpd_sasl_auth_enable"] == "yes"
        assert overrides[f"{service}/smtpd_tls_auth_only"] == "yes"
        assert overrides[f"{service}/smtpd_tls_security_level"] == "encrypt"
        assert overrides[f"{service}/smtpd_relay_restrictions"].endswith("reject")
    assert overrides["submissions/inet/smtpd_tls_wrappermode"] == "yes"
    # No other service of the installed master.cf offers SMTP AUTH.
    enabled = {
        n for n, v in overrides.items() if n.endswith("/smtpd_sasl_auth_enable") and v == "yes"
    }
    assert enabled == {
        "submission/inet/smtpd_sasl_auth_enable",
        "submissions/inet/smtpd_sasl_auth_enable",
    }
    dovecot = (out / "dovecot" / "auth-mailadmin.conf.ext").read_text()
    assert f"\nssl_cert = <{cert}\nssl_key = <{key}\n" in dovecot


def test_map_parameters_name_the_exported_tables(world: World, applied: dict[str, str]) -> None:
    for parameter, tables in MAIN_CF_MAPS.items():
        references = [ref.strip() for ref in applied[parameter].split(",")]
        assert references == [world.table(table) for table in tables]
        for reference in references:
            assert Path(reference.split(":", 1)[1]).is_file()


@pytest.mark.parametrize(
    ("parameter", "key", "answer"),
    [
        ("virtual_mailbox_domains", "example.com", "example.com"),
        ("virtual_mailbox_maps", "alice@example.com", "example.com/alice/"),
        ("virtual_uid_maps", "alice@example.com", "3001"),
        ("transport_maps", "relay.example", "smtp:[mx.relay.example]:25"),
    ],
)
def test_postmap_answers_through_the_applied_parameter(
    applied: dict[str, str], parameter: str, key: str, answer: str
) -> None:
    assert postmap_query(applied[parameter], key) == answer


# --- the exporter ------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder`: its bytes and modification time."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://mailadmin:s3cret-in-argv@127.0.0.1:5432/mailadmin",
        "mysql://mailadmin:s3cret-in-argv@127.0.0.1:3306/mailadmin",
    ],
)
def test_export_refuses_a_db_url_with_a_password(worlds: Worlds, tmp_path: Path, url: str) -> None:
    out = tmp_path / "out"
    dialect = "pgsql" if url.startswith("postgresql") else "mysql"
    # The refusal comes before any database or file is touched: one world is enough.
    result = worlds.get("sqlite").db.manage(
        "export_maps", "--dialect", dialect, "--out", str(out), "--db-url", url, check=False
    )
    assert result.returncode != 0
    assert "must not carry a password" in result.stderr
    assert "s3cret-in-argv" not in result.stdout + result.stderr
    assert not out.exists()  # nothing written, not even the secrets file


def test_export_again_changes_nothing_but_keeps_a_hand_edited_file(
    world: World, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export_maps(world.db, out)
    before = snapshot(out)
    result = export_maps(world.db, out)
    assert {line.split()[0] for line in result.stdout.splitlines()} == {"unchanged"}
    assert snapshot(out) == before  # same passwords, same files, not even rewritten

    edited = out / "postfix" / "virtual_alias_maps.cf"
    edited.write_text(edited.read_text() + "# the operator's note\n")
    before = snapshot(out)
    # A changed mynetworks would rewrite main.cf.lines: the export is refused as a whole.
    result = export_maps(world.db, out, "--mynetworks", "127.0.0.1/32", check=False)
    assert result.returncode != 0
    assert "edited by hand" in result.stderr and str(edited) in result.stderr
    assert snapshot(out) == before

    export_maps(world.db, out, "--mynetworks", "127.0.0.1/32", "--force")
    assert "# the operator's note" not in edited.read_text()
    assert "\nmynetworks = 127.0.0.1/32\n" in (out / "postfix" / "main.cf.lines").read_text()
    assert not [p for p in out.rglob(".*") if p.name != SECRETS_FILE]  # no temporary files


def test_exported_files_are_not_world_readable(world: World) -> None:
    files = [path for path in world.out.rglob("*") if path.is_file()]
    modes = {str(path.relative_to(world.out)): stat.S_IMODE(path.stat().st_mode) for path in files}
    secrets = modes.pop(SECRETS_FILE, None)
    assert modes and set(modes.values()) == {0o640}, modes
    if world.dialect == "sqlite":
        assert secrets is None  # no roles, no passwords
    else:
        assert secrets == 0o600
    # The folders the exporter makes, --out included, are 0750 whatever the umask.
    for folder in (".", "postfix", "dovecot", "sql"):
        assert stat.S_IMODE((world.out / folder).stat().st_mode) == 0o750, folder
