"""There is no Django admin site: the panel is the one admin UI, and the services its one writer."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings


def test_django_admin_is_not_installed():
    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    assert not apps.is_installed("django.contrib.admin")


@pytest.mark.parametrize("url", ["/admin/", "/admin/login/", "/admin/domains/domain/"])
def test_admin_urls_are_404_even_for_a_superadmin(client_super, client, url):
    assert client_super.get(url).status_code == 404
    assert client.get(url).status_code == 404
