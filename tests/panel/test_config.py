"""The mail-stack config page: the exporter's files, credentials hidden until asked."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from audit.models import AuditEntry
from mailadmin.contract import config_page
from mailadmin.contract.roles import mysql_native_password, scram_sha_256

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.MAILADMIN_EXPORT_DIR = tmp_path
    return tmp_path


def role_passwords(export_dir) -> dict[str, str]:
    return json.loads((export_dir / ".mailadmin-secrets.json").read_text())


def test_every_exported_file_is_shown_without_credentials(client_super, export_dir):
    response = client_super.get("/config/")
    assert response.status_code == 200
    body = response.content.decode()
    for path in (
        "postfix/virtual_mailbox_maps.cf",
        "dovecot/dovecot-sql.conf.ext",
        "sql/roles.sql",
    ):
        assert path in body
    secrets = role_passwords(export_dir)
    assert secrets  # PostgreSQL: the roles have passwords
    for role, password in secrets.items():
        assert password not in body
        assert scram_sha_256(password, role) not in body
    assert config_page.HIDDEN in body
    assert "postconf -e &#x27;virtual_mailbox_maps = proxy:pgsql:" in body


def test_credentials_are_shown_on_request_and_audited(client_super, export_dir, htmx):
    response = client_super.post("/config/", {"reveal": "1"}, headers=htmx)
    body = response.content.decode()
    assert "<html" not in body
    for password in role_passwords(export_dir).values():
        assert password in body
    assert AuditEntry.objects.filter(action="reveal", actor_label="root").exists()
    assert "no-store" in response["Cache-Control"]


def test_download_is_the_whole_set_with_credentials(client_super, export_dir):
    response = client_super.post("/config/download/")
    assert response["Content-Type"] == "application/gzip"
    assert "mailadmin-config.tar.gz" in response["Content-Disposition"]
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        names = tar.getnames()
        member = tar.extractfile("mailadmin-config/sql/roles.sql")
        assert member is not None
        roles = member.read().decode()
        modes = {m.name: m.mode for m in tar.getmembers()}
    expected = {f"mailadmin-config/{f.path}" for f in config_page.config_files(reveal=True)}
    assert set(names) == expected
    secrets = role_passwords(export_dir)
    assert scram_sha_256(secrets["mailadmin_postfix"], "mailadmin_postfix") in roles
    assert modes["mailadmin-config/sql/roles.sql"] == 0o600
    assert AuditEntry.objects.filter(action="download").exists()


def test_the_page_matches_what_export_maps_writes(export_dir):
    from django.core.management import call_command

    out = export_dir / "cli"
    call_command("export_maps", "--out", str(out), stdout=io.StringIO())
    # The panel reads the same secrets file when pointed at the same folder.
    from django.test import override_settings

    with override_settings(MAILADMIN_EXPORT_DIR=out):
        shown = {f.path: f.content for f in config_page.config_files(reveal=True)}
    for path, content in shown.items():
        assert (out / path).read_text() == content


def test_hidden_also_covers_mysql_hashes():
    from mailadmin.contract.target import Target

    target = Target(
        dialect="mysql",
        database="mail",
        hosts=(("db", 3306),),
        postfix_password="pfsecret123",
        dovecot_password="dvsecret456",
    )
    for item in config_page.config_files(reveal=False, target=target):
        for secret in ("pfsecret123", "dvsecret456", mysql_native_password("pfsecret123")):
            assert secret not in item.content
