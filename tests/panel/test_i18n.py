"""English and Ukrainian: the project catalog is complete and the pages use it."""

# Ukrainian text: its Cyrillic letters and apostrophe are meant.
# ruff: noqa: RUF001

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from domains.models import Domain

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "uk" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

pytestmark = pytest.mark.django_db


def test_catalog_has_no_empty_or_fuzzy_translation():
    text = PO.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]
    assert len(entries) > 200
    for entry in entries:
        assert "#, fuzzy" not in entry, entry
        for line in entry.splitlines():
            if line.startswith("msgstr"):
                assert not re.fullmatch(r'msgstr(\[\d\])? ""', line), entry


def test_compiled_catalog_is_up_to_date(tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext's msgfmt is needed to check the catalog"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(fresh), str(PO)], check=True)
    assert fresh.read_bytes() == MO.read_bytes(), "run msgfmt on locale/uk/LC_MESSAGES/django.po"


@pytest.fixture
def uk(client_super, admin_a):
    client_super.cookies["django_language"] = "uk"
    return client_super


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/", ["Панель керування", "Домени", "Скриньки", "Вийти"]),
        ("/domains/", ["Пошук доменів", "Розміщений тут", "Вимкнути"]),
        (
            "/domains/a.example/",
            ["Налаштування", "Використання та ліміти", "Адміністратори домену"],
        ),
        ("/domains/a.example/edit/", ["Макс. скриньок", "Загальна квота", "Зберегти"]),
        ("/domains/a.example/delete/", ["2 скриньки", "2 псевдоніми", "1 домен-псевдонім"]),
        ("/config/", ["Конфігурація пошти", "Показати облікові дані"]),
        ("/audit/", ["Журнал аудиту", "Тип об’єкта", "створено"]),
        ("/accounts/admins/", ["Адміністратори", "Адміністратор домену"]),
        ("/accounts/admins/new/", ["Створити адміністратора"]),
        ("/accounts/password/", ["Змінити свій пароль"]),
    ],
)
def test_pages_in_ukrainian(uk, url, words):
    body = uk.get(url).content.decode()
    assert '<html lang="uk">' in body
    for word in words:
        assert word in body, word


def test_service_errors_in_ukrainian(uk):
    response = uk.post(
        "/domains/new/",
        {"name": "a.example", "delivery": "hosted", "max_mailboxes": "0", "max_aliases": "0"},
    )
    body = response.content.decode()
    assert "Домен a.example уже існує." in body
    assert "already exists" not in body
    response = uk.post(
        "/domains/new/",
        {
            "name": "x.example",
            "delivery": "hosted",
            "max_mailboxes": "0",
            "max_aliases": "0",
            "max_mailbox_quota": "lots",
        },
    )
    # The form re-renders with "lots" in its input whatever the error says: the translated
    # message of the size parser is what shows the catalog was used.
    body = response.content.decode()
    assert "«lots» — не розмір: напишіть, наприклад, 500M, 2G або 1.5GiB." in body
    assert "is not a size" not in body
    response = uk.post(
        "/domains/new/",
        {
            "name": "x.example",
            "delivery": "hosted",
            "max_mailboxes": "0",
            "max_aliases": "0",
            "uid": "5",
        },
    )
    body = response.content.decode()
    assert "uid має бути від 1000 до" in body
    assert "must be between" not in body
    assert not Domain.objects.filter(name="x.example").exists()


def test_login_error_in_ukrainian(client, admin_a):
    client.cookies["django_language"] = "uk"
    response = client.post("/accounts/login/", {"username": "admin-a", "password": "wrong"})
    body = response.content.decode()
    assert "Неправильне ім’я користувача або пароль." in body
    assert "Wrong username or password" not in body


def test_language_switch_sets_ukrainian(client_super):
    response = client_super.post("/i18n/setlang/", {"language": "uk", "next": "/domains/"})
    assert response["Location"] == "/domains/"
    assert "Пошук доменів" in client_super.get("/domains/").content.decode()
