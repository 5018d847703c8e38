"""Every setting an operator may change comes from the environment, read once in
mailadmin/settings.py through its env helpers, and README's "Settings (environment)" table
lists exactly those variables."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT, fresh_settings

SETTINGS = ROOT / "mailadmin" / "settings.py"
README = ROOT / "README.md"


def readme_variables() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Settings (environment)", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", table, flags=re.MULTILINE))


def _helpers(tree: ast.Module) -> set[str]:
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("env")
    }


def settings_variables() -> set[str]:
    """The first argument of every call of an env helper in settings.py."""
    tree = ast.parse(SETTINGS.read_text(encoding="utf-8"))
    helpers = _helpers(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in helpers
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def test_readme_lists_exactly_the_variables_settings_reads() -> None:
    documented, read = readme_variables(), settings_variables()
    assert len(documented) > 20
    assert documented - read == set(), "in README's table but never read by settings.py"
    assert read - documented == set(), "read by settings.py but missing from README's table"
    assert {n for n in read if n.startswith("MAILADMIN_")} == {
        n for n in documented if n.startswith("MAILADMIN_")
    }


def test_the_environment_is_read_only_through_the_helpers() -> None:
    """os.environ appears only inside the env helpers, so each variable has one parser."""
    tree = ast.parse(SETTINGS.read_text(encoding="utf-8"))
    inside = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in _helpers(tree):
            inside |= {id(n) for n in ast.walk(node)}
    outside = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "environ" and id(node) not in inside
    ]
    assert outside == []


def test_no_module_keeps_a_default_of_its_own() -> None:
    """`settings.X`, never `getattr(settings, "X", default)`: the default lives in settings.py."""
    offenders = []
    for folder, subfolders, files in os.walk(ROOT):
        # The tests override settings on purpose; the rest is not the project's code.
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in SKIPPED]
        for name in files:
            path = Path(folder) / name
            if name.endswith(".py") and READS_WITH_DEFAULT.search(path.read_text("utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


SKIPPED = {"tests", "var", "__pycache__", "node_modules", "ci-artifacts"}
READS_WITH_DEFAULT = re.compile(r"(getattr|hasattr)\(\s*(django_)?settings\s*,")


# Each variable of the table with a value other than its default, and the setting it must give
# (or a test of that setting).
SAMPLES: dict[str, tuple[str, str, Any]] = {
    "DATABASE_URL": (
        "DATABASES",
        "postgresql://panel@db.example:5433/mail",
        lambda value: (
            (value["default"]["HOST"], value["default"]["NAME"]) == ("db.example", "mail")
        ),
    ),
    "SECRET_KEY": ("SECRET_KEY", "a-key-from-the-environment", "a-key-from-the-environment"),
    "DEBUG": ("DEBUG", "1", True),
    "ALLOWED_HOSTS": ("ALLOWED_HOSTS", "mail.example.com, panel", ["mail.example.com", "panel"]),
    "CSRF_TRUSTED_ORIGINS": (
        "CSRF_TRUSTED_ORIGINS",
        "https://mail.example.com",
        ["https://mail.example.com"],
    ),
    "MAILADMIN_VAR_DIR": ("VAR_DIR", "/srv/mailadmin", "/srv/mailadmin"),
    "LANGUAGE_CODE": ("LANGUAGE_CODE", "uk", "uk"),
    "TIME_ZONE": ("TIME_ZONE", "Europe/Kyiv", "Europe/Kyiv"),
    "LOG_LEVEL": ("LOG_LEVEL", "WARNING", "WARNING"),
    "MAILADMIN_MAIL_BASE": ("MAILADMIN_MAIL_BASE", "/srv/vmail", "/srv/vmail"),
    "MAILADMIN_MIN_UID": ("MAILADMIN_MIN_UID", "2000", 2000),
    "MAILADMIN_RECIPIENT_DELIMITER": ("MAILADMIN_RECIPIENT_DELIMITER", "", ""),
    "MAILADMIN_MESSAGE_SIZE_LIMIT": ("MAILADMIN_MESSAGE_SIZE_LIMIT", "10485760", 10485760),
    "MAILADMIN_DELIVERY": ("MAILADMIN_DELIVERY", "virtual", "virtual"),
    "MAILADMIN_PASSWORD_SCHEME": ("MAILADMIN_PASSWORD_SCHEME", "BLF-CRYPT", "BLF-CRYPT"),
    "MAILADMIN_LOGIN_FREE_FAILURES": ("MAILADMIN_LOGIN_FREE_FAILURES", "3", 3),
    "MAILADMIN_LOGIN_DELAY_SECONDS": ("MAILADMIN_LOGIN_DELAY_SECONDS", "30", 30),
    "MAILADMIN_LOGIN_MAX_DELAY_SECONDS": ("MAILADMIN_LOGIN_MAX_DELAY_SECONDS", "600", 600),
    "MAILADMIN_LOGIN_CEILING": ("MAILADMIN_LOGIN_CEILING", "20", 20),
    "MAILADMIN_LOGIN_FORGET_SECONDS": ("MAILADMIN_LOGIN_FORGET_SECONDS", "3600", 3600),
    "MAILADMIN_TRUSTED_PROXIES": (
        "MAILADMIN_TRUSTED_PROXIES",
        "10.0.0.1,10.0.0.2",
        ["10.0.0.1", "10.0.0.2"],
    ),
    "MAILADMIN_EXPORT_DIR": (
        "MAILADMIN_EXPORT_DIR",
        "/etc/mailadmin/export",
        "/etc/mailadmin/export",
    ),
    "MAILADMIN_DOVEADM_URL": (
        "MAILADMIN_DOVEADM_URL",
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8080",
    ),
    "MAILADMIN_DOVEADM_API_KEY": ("MAILADMIN_DOVEADM_API_KEY", "aKey0123", "aKey0123"),
    "MAILADMIN_IMPORT_INLINE_ROWS": ("MAILADMIN_IMPORT_INLINE_ROWS", "50", 50),
    "MAILADMIN_IMPORT_MAX_BYTES": ("MAILADMIN_IMPORT_MAX_BYTES", "1048576", 1048576),
    "MAILADMIN_HTTPS": ("SECURE_SSL_REDIRECT", "1", True),
    "MAILADMIN_HSTS_SECONDS": ("SECURE_HSTS_SECONDS", "600", 600),
    "MAILADMIN_HSTS_INCLUDE_SUBDOMAINS": ("SECURE_HSTS_INCLUDE_SUBDOMAINS", "1", True),
    "MAILADMIN_PROXY_SSL_HEADER": (
        "SECURE_PROXY_SSL_HEADER",
        "X-Forwarded-Proto: https",
        ["HTTP_X_FORWARDED_PROTO", "https"],
    ),
    "MAILADMIN_SESSION_IDLE_SECONDS": ("MAILADMIN_SESSION_IDLE_SECONDS", "600", 600),
    "MAILADMIN_SESSION_MAX_SECONDS": ("MAILADMIN_SESSION_MAX_SECONDS", "7200", 7200),
}


def settings_of(env: dict[str, str], names: list[str]) -> dict[str, object]:
    """The settings a fresh process reads from `env` alone (nothing of this one's)."""
    base = {"PATH": os.environ.get("PATH", ""), "SECRET_KEY": "x"}
    return fresh_settings({**base, **env}, names)


def test_every_variable_of_the_table_is_settable() -> None:
    assert set(SAMPLES) == readme_variables()
    names = sorted({setting for setting, _value, _want in SAMPLES.values()})
    defaults = settings_of({}, names)
    got = settings_of({name: value for name, (_s, value, _w) in SAMPLES.items()}, names)
    for variable, (setting, _value, want) in SAMPLES.items():
        if callable(want):
            assert want(got[setting]), (variable, got[setting])
        else:
            assert got[setting] == want, (variable, got[setting])
        assert got[setting] != defaults[setting], f"{variable} = its default proves nothing"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("LANGUAGE_CODE", "de"), ("LOG_LEVEL", "LOUD"), ("MAILADMIN_IMPORT_MAX_BYTES", "64M")],
)
def test_a_wrong_value_stops_the_start_with_its_name(variable: str, value: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import mailadmin.settings"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "SECRET_KEY": "x", variable: value},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and variable in result.stderr
