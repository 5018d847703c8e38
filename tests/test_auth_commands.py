"""Django's own admin-writing commands are refused: an admin is created and given a password
only through the accounts services (`manage.py admin ...`), with the rules and the audit log."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "pointer"),
    [
        (("changepassword", "ops"), "manage.py admin password USERNAME"),
        (("createsuperuser", "--noinput"), "manage.py admin add USERNAME --superadmin"),
    ],
)
def test_django_admin_commands_point_at_the_admin_command(args, pointer) -> None:
    user = get_user_model().objects.create_user("ops", password="an old secret 123")
    with pytest.raises(CommandError) as info:
        call_command(*args)
    assert pointer in str(info.value)
    user.refresh_from_db()
    assert user.check_password("an old secret 123")
    assert get_user_model().objects.count() == 1
