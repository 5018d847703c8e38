"""The transfer app's Ukrainian catalog is complete and compiled, and its pages use it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

PO = (
    Path(__file__).resolve().parents[2] / "transfer" / "locale" / "uk" / "LC_MESSAGES" / "django.po"
)
MO = PO.with_suffix(".mo")


def _translations(entry: str) -> list[str]:
    """The msgstr texts of one entry, continuation lines joined."""
    texts: list[str] = []
    for line in entry.splitlines():
        if line.startswith("msgstr"):
            texts.append(re.sub(r'^msgstr(\[\d\])? "(.*)"$', r"\2", line))
        elif line.startswith('"') and texts:
            texts[-1] += line[1:-1]
    return texts


def test_catalog_has_no_empty_or_fuzzy_translation() -> None:
    entries = PO.read_text(encoding="utf-8").split("\n\n")[1:]
    assert len(entries) > 100
    for entry in entries:
        assert "fuzzy" not in entry, entry
        assert all(_translations(entry)), entry


def test_compiled_catalog_is_up_to_date(tmp_path: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext's msgfmt is needed to check the catalog"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(fresh), str(PO)], check=True)
    assert fresh.read_bytes() == MO.read_bytes(), "run compilemessages in transfer/"


@pytest.mark.django_db
def test_import_page_in_ukrainian() -> None:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.net", "x" * 12))
    client.cookies["django_language"] = "uk"
    page = client.get(reverse("transfer:index")).content.decode()
    assert "Імпорт файлу CSV" in page and "Завантажити й перевірити" in page
