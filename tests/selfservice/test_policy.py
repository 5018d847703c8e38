"""The owners' password policy: its checks, and who may change it (page and CLI)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from selfservice.models import PasswordPolicy
from selfservice.policy import password_problems
from selfservice.services import password_policy_update

ADDRESS = "john.smith@example.com"


def problems(password: str, **policy: object) -> list[str]:
    return password_problems(password, address=ADDRESS, policy=PasswordPolicy(**policy))


def test_a_good_password_passes() -> None:
    assert problems("Mellow-Harbour-42") == []


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short-1", "at least 10 characters"),
        ("john.smith@example.com", "your address"),
        ("JOHN.SMITH@EXAMPLE.COM", "your address"),
        ("john.smith", "your address"),
        ("my-john.smith-2024", "your address"),
        ("example.com", "your address"),
        ("password123", "too common"),
        ("Password123", "too common"),  # case does not help
        ("qwertyuiop", "too common"),
        ("a\nlong-enough-password", "line breaks"),
        ("x" * 1025, "too long"),
    ],
)
def test_bad_passwords_are_refused_with_the_reason(password: str, fragment: str) -> None:
    found = problems(password)
    assert any(fragment in problem for problem in found), found


def test_the_policy_switches_work() -> None:
    assert problems("password123", forbid_common=False) == []
    assert problems("john.smith-x1", forbid_address=False) == []
    assert problems("Short-42", min_length=8) == []
    assert problems("Mellow-Harbour-42", min_length=20)


@pytest.mark.django_db
def test_policy_defaults_until_saved_then_the_saved_row() -> None:
    assert PasswordPolicy.load().min_length == 10
    password_policy_update(actor=None, min_length=14, forbid_address=True, forbid_common=False)
    policy = PasswordPolicy.load()
    assert (policy.min_length, policy.forbid_common) == (14, False)
    entry = AuditEntry.objects.get(object_type="passwordpolicy")
    assert entry.changes == {"min_length": [10, 14], "forbid_common": [True, False]}


@pytest.mark.django_db
def test_only_a_superadmin_sets_the_policy(admin_user, superadmin) -> None:
    with pytest.raises(PermissionDenied):
        password_policy_update(
            actor=admin_user, min_length=12, forbid_address=True, forbid_common=True
        )
    password_policy_update(actor=superadmin, min_length=12, forbid_address=True, forbid_common=True)
    assert PasswordPolicy.load().min_length == 12


@pytest.mark.django_db
@pytest.mark.parametrize("length", [7, 0, 129])
def test_policy_length_has_a_floor_and_a_ceiling(length: int) -> None:
    before = PasswordPolicy.load().min_length
    with pytest.raises(ValidationError) as info:
        password_policy_update(
            actor=None, min_length=length, forbid_address=True, forbid_common=True
        )
    assert info.value.message_dict == {"min_length": ["Choose a length from 8 to 128."]}
    assert PasswordPolicy.load().min_length == before


@pytest.mark.django_db
def test_policy_page_for_superadmin_only(client, admin_client, superadmin, owner_client) -> None:
    url = "/me/admin/policy/"
    assert admin_client.get(url).status_code == 404
    assert owner_client.get(url)["Location"] == f"/accounts/login/?next={url}"
    client.force_login(superadmin)
    assert client.get(url).status_code == 200
    response = client.post(url, {"min_length": "16", "forbid_address": "on"})
    assert response.status_code == 302
    policy = PasswordPolicy.load()
    assert (policy.min_length, policy.forbid_address, policy.forbid_common) == (16, True, False)
    assert client.post(url, {"min_length": "6"}).status_code == 200  # form error, not saved
    assert PasswordPolicy.load().min_length == 16


@pytest.mark.django_db
def test_policy_command_shows_and_sets() -> None:
    out = io.StringIO()
    call_command("password_policy", stdout=out)
    assert out.getvalue().strip() == "min-length 10, forbid-address on, forbid-common on"
    out = io.StringIO()
    call_command("password_policy", "--min-length", "12", "--forbid-common", "off", stdout=out)
    assert out.getvalue().strip() == "min-length 12, forbid-address on, forbid-common off"
    with pytest.raises(CommandError, match="from 8 to 128"):
        call_command("password_policy", "--min-length", "3")
