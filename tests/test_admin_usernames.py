"""Admin usernames that differ only in case are one name: `ADMIN` next to `admin` is refused by
the one service every writer uses (panel, CLI, first_admin, migrations) and by a unique index
on the folded name in each database (accounts migration 0003)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client

from accounts import services
from tests.support import create_contract_db, drop_contract_db

PASSWORD = "a long enough password 1"


@pytest.mark.django_db
@pytest.mark.parametrize("second", ["ADMIN", "Admin", " aDmin "])
def test_a_name_that_differs_only_in_case_is_refused(second: str) -> None:
    services.admin_create(actor=None, username="admin", superadmin=True)
    with pytest.raises(ValidationError) as refused:
        services.admin_create(actor=None, username=second, superadmin=True)
    assert refused.value.message_dict["username"] == [
        "An admin named admin already exists; usernames that differ only in case are one name."
    ]
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_the_same_name_keeps_its_message() -> None:
    services.admin_create(actor=None, username="admin", superadmin=True)
    with pytest.raises(ValidationError) as refused:
        services.admin_create(actor=None, username="admin", superadmin=True)
    assert refused.value.message_dict["username"] == [
        "An account with this username already exists."
    ]


@pytest.mark.django_db
def test_the_panel_form_says_it(admin_client: Client) -> None:
    existing = get_user_model().objects.get().get_username()
    response = admin_client.post(
        "/accounts/admins/new/",
        {"username": existing.upper(), "superadmin": "on", "password": PASSWORD},
    )
    assert response.status_code == 200
    assert "usernames that differ only in case are one name" in response.content.decode()
    assert get_user_model().objects.count() == 1


ONE_NAME = """
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
User = get_user_model()
User.objects.create(username="admin")
for other in ("ADMIN", "aDmIn"):
    try:
        with transaction.atomic():
            User.objects.create(username=other)
    except IntegrityError:
        print("refused", other)
print("users", User.objects.count())
"""


@pytest.mark.tools
@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
def test_the_database_refuses_a_second_spelling(dialect: str, tmp_path: Path) -> None:
    """Past the service (a race, a raw write): the unique index on the folded name."""
    db = create_contract_db(dialect, tmp_path)
    try:
        out = db.python(ONE_NAME).stdout.split("\n")
        assert out[:3] == ["refused ADMIN", "refused aDmIn", "users 1"], out
    finally:
        drop_contract_db(db)


TWO_SPELLINGS = """
from django.contrib.auth import get_user_model
User = get_user_model()
User.objects.create(username="admin")
User.objects.create(username="Admin")
"""


@pytest.mark.tools
@pytest.mark.parametrize("dialect", ["pgsql", "mysql", "sqlite"])
def test_the_migration_names_the_accounts_to_merge_first(dialect: str, tmp_path: Path) -> None:
    db = create_contract_db(dialect, tmp_path, migrate=False)
    try:
        db.manage("migrate", "auth", "-v", "0")
        db.manage("migrate", "accounts", "0002", "-v", "0")
        db.python(TWO_SPELLINGS)
        result = db.manage("migrate", "-v", "0", check=False)
        assert result.returncode != 0
        assert "admin, Admin" in result.stderr, result.stderr
        assert "differ only in case" in result.stderr, result.stderr
    finally:
        drop_contract_db(db)
