"""The Ukrainian catalog of sieve/ is complete and compiled, and the rules speak it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from sieve import rules
from tests.panel.test_mailboxes_i18n import entries
from tests.support import ROOT, require_tool

APP = ROOT / "sieve"
PO = APP / "locale" / "uk" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_every_string_of_the_app_is_translated(tmp_path: Path) -> None:
    """makemessages over today's sources finds nothing the catalog lacks."""
    require_tool("xgettext")
    copy = tmp_path / "sieve"
    shutil.copytree(APP, copy, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    (copy / "locale").mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mailadmin.settings", "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [str(Path(sys.executable).with_name("django-admin")), "makemessages", "-l", "uk"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    wanted = entries(copy / "locale" / "uk" / "LC_MESSAGES" / "django.po")
    have = entries(PO)
    assert len(wanted) > 40
    missing = sorted(set(wanted) - {k for k, v in have.items() if v != '""'})
    assert not missing, f"untranslated in {PO}: {missing}"


def test_catalog_has_no_fuzzy_entries_and_the_mo_is_current(tmp_path: Path) -> None:
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")
    msgfmt = require_tool("msgfmt")
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(fresh), str(PO)], check=True)
    assert fresh.read_bytes() == MO.read_bytes(), "run msgfmt on sieve/locale/uk/.../django.po"


def test_the_rules_speak_ukrainian() -> None:
    with translation.override("uk"), pytest.raises(ValidationError) as info:
        rules.clean_rule(condition="header", match="is", value="", action="fileinto")
    assert info.value.message_dict == {
        "header_name": ["Вкажіть назву заголовка, наприклад List-Id."],
        "value": ["Вкажіть текст, який шукати."],
        "folder": ["Вкажіть назву теки."],
    }
    with translation.override("uk"), pytest.raises(ValidationError) as info:
        rules.check_days(0)
    assert info.value.messages == ["Виберіть кількість днів від 1 до 60."]
