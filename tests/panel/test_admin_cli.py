"""manage.py admin add|list|grant|revoke|password|delete and manage.py first_admin."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from tests.support import ROOT

pytestmark = pytest.mark.django_db


def generated(output: str) -> str:
    match = re.search(r"password: (\S+)", output)
    assert match, output
    return match.group(1)


def run(*args: str, stdin: str = "") -> str:
    out = io.StringIO()
    call_command("admin", *args, stdin=io.StringIO(stdin), stdout=out)
    return out.getvalue()


def test_add_domain_admin_with_generated_password(domain_a):
    output = run("add", "carol", "--domain", "a.example")
    password = generated(output)
    carol = get_user_model().objects.get(username="carol")
    assert carol.check_password(password)
    assert "shown only now" in output
    assert list(carol.administered_domains.values_list("name", flat=True)) == ["a.example"]
    entry = AuditEntry.objects.get(action="create", object_type="user")
    assert entry.actor_label == "system"


def test_add_superadmin_with_password_from_stdin(db):
    output = run("add", "boss", "--superadmin", "--password-stdin", stdin="a long secret 123\n")
    assert "password:" not in output
    boss = get_user_model().objects.get(username="boss")
    assert boss.is_superuser
    assert boss.check_password("a long secret 123")


def test_password_is_never_an_argument(db):
    # No abbreviations: "--password" is not taken for --password-stdin.
    with pytest.raises(CommandError, match=r"unrecognized arguments: --password secret$"):
        run("add", "eve", "--superadmin", "--password", "secret")
    assert not get_user_model().objects.filter(username="eve").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "dave"), "needs at least one domain"),
        (("add", "dave", "--domain", "nowhere.example"), "no domain nowhere.example"),
        (("grant", "nobody", "--domain", "a.example"), "no such admin"),
    ],
)
def test_errors_are_one_line_and_change_nothing(domain_a, args, message):
    before = get_user_model().objects.count()
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert get_user_model().objects.count() == before


def test_list_grant_revoke_delete(domain_a, domain_b, admin_a):
    assert "Granted admin-a: b.example." in run("grant", "admin-a", "--domain", "b.example")
    listing = run("list")
    assert re.search(r"admin-a\s+no\s+yes\s+a\.example, b\.example", listing)
    assert "Revoked from admin-a: a.example." in run("revoke", "admin-a", "--domain", "a.example")
    assert list(admin_a.administered_domains.values_list("name", flat=True)) == ["b.example"]
    with pytest.raises(CommandError, match="confirm with --yes"):
        run("delete", "admin-a")
    run("delete", "admin-a", "--yes")
    assert not get_user_model().objects.filter(username="admin-a").exists()


def test_password_action(admin_a):
    output = run("password", "admin-a")
    admin_a.refresh_from_db()
    assert admin_a.check_password(generated(output))


def test_first_admin_prints_the_panel_login_once(db):
    out = io.StringIO()
    call_command("first_admin", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8000/accounts/login/" in text
    password = generated(text)
    assert get_user_model().objects.get(username="admin").check_password(password)
    # Every later start prints where the panel is, never a password again.
    again = io.StringIO()
    call_command("first_admin", "--bind", "0.0.0.0:8080", stdout=again)
    assert again.getvalue() == "The panel: http://127.0.0.1:8080/accounts/login/\n"


def test_cli_from_the_shell_fails_with_one_line(tmp_path):
    db = tmp_path / "cli.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "admin", "add", "x", "--domain", "none.example"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: domains: There is no domain none.example."
