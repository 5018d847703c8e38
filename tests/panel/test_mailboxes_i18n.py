"""The Ukrainian catalog of mailboxes/ is complete and compiled, and the pages use it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.support import ROOT, require_tool

APP = ROOT / "mailboxes"
PO = APP / "locale" / "uk" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def entries(po: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (through msgcat, so every entry is on one line each)."""
    msgcat = require_tool("msgcat")
    flat = subprocess.run(
        [msgcat, "--no-wrap", "--no-location", str(po)], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, str] = {}
    msgid = None
    for line in flat.splitlines():
        if line.startswith("msgid "):
            msgid = line[len("msgid ") :]
        elif line.startswith("msgstr ") and msgid is not None:
            result[msgid] = line[len("msgstr ") :]
            msgid = None
    result.pop('""', None)
    return result


def test_every_string_of_the_app_is_translated(tmp_path: Path) -> None:
    """makemessages over today's sources finds nothing the catalog lacks."""
    require_tool("xgettext")
    copy = tmp_path / "mailboxes"
    shutil.copytree(APP, copy, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    (copy / "locale").mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mailadmin.settings", "PYTHONPATH": str(ROOT)}
    subprocess.run(
        # django-admin, not "python -m django": the app's selectors.py would shadow the
        # standard library's module of that name from the working directory.
        [str(Path(sys.executable).with_name("django-admin")), "makemessages", "-l", "uk"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    wanted = entries(copy / "locale" / "uk" / "LC_MESSAGES" / "django.po")
    have = entries(PO)
    assert len(wanted) > 150
    missing = sorted(set(wanted) - {k for k, v in have.items() if v != '""'})
    assert not missing, f"untranslated in {PO}: {missing}"


def test_catalog_has_no_fuzzy_entries_and_the_mo_is_current(tmp_path: Path) -> None:
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")
    msgfmt = require_tool("msgfmt")
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(fresh), str(PO)], check=True)
    assert fresh.read_bytes() == MO.read_bytes(), "run compilemessages in mailboxes/"


@pytest.mark.django_db
def test_pages_in_ukrainian(client_a: Client) -> None:
    client_a.cookies["django_language"] = "uk"
    page = client_a.get(reverse("mailboxes:mailbox_list", args=["a.example"])).content.decode()
    assert "Поштові скриньки a.example" in page
    trace = client_a.get(reverse("mailboxes:trace"), {"address": "nobody@a.example"})
    text = trace.content.decode()
    assert "не має власного запису; catch-all @a.example переписує її на alice@a.example" in text
    refused = client_a.post(
        reverse("mailboxes:mailbox_create", args=["a.example"]),
        {"local_part": "alice", "password_mode": "generate", "storage_format": "maildir"},
    )
    body = refused.content.decode()
    assert "Скринька alice@a.example уже існує." in body
    assert "already exists" not in body
