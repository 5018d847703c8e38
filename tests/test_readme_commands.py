"""The README's command lines work as written: from the project's directory, with no
virtualenv activated (scripts/manage), against a fresh embedded SQLite database."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _provisioning_block() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Provisioning from the command line", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_names_no_command_that_needs_an_activated_virtualenv() -> None:
    text = README.read_text(encoding="utf-8")
    assert "./manage.py" not in text
    assert not re.search(r"(?m)^(\S+ \| )?manage\.py ", text)


def test_the_provisioning_lines_run_as_written(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DATABASE_URL": f"sqlite:///{tmp_path}/panel.sqlite3",
        "MAILADMIN_VAR_DIR": str(tmp_path / "var"),
        "PASSWORD": "a long enough password 1",
    }
    lines = ["scripts/manage migrate --no-input -v 0", *_provisioning_block()]
    for line in lines:
        # The one path outside the project: the export goes to a temporary directory here.
        line = line.replace("/etc/mailadmin/export", str(tmp_path / "export"))
        result = subprocess.run(
            ["bash", "-c", f"set -euo pipefail; {line}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, (line, result.stdout, result.stderr)
    assert (tmp_path / "export" / "postfix" / "virtual_alias_maps.cf").exists()


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        ("[::]:8443", "http://[::1]:8443"),
        ("[2001:db8::1]", "http://[2001:db8::1]:8000"),
        ("panel.lan", "http://panel.lan:8000"),
        (":9000", "http://127.0.0.1:9000"),
        ("unix:/run/mailadmin.sock", ""),
    ],
)
def test_the_printed_url_follows_bind(bind: str, url: str) -> None:
    from accounts.management.commands.first_admin import url_of_bind

    assert url_of_bind(bind) == url


def test_scripts_manage_keeps_relative_paths_of_the_caller(tmp_path: Path) -> None:
    """It runs manage.py by its full path, not from the project's directory."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/panel.sqlite3")
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [str(ROOT / "scripts" / "manage"), "shell", "-c", "import os; print(os.getcwd())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path)
