"""mailadmin.sessions: Django's database sessions read by one statement; what a session holds,
when it is found and when it is not must be Django's own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from mailadmin.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_panel_uses_the_store():
    assert settings.SESSION_ENGINE == "mailadmin.sessions"


def test_a_saved_session_reads_back_in_one_query(django_assert_num_queries):
    store = SessionStore()
    store["who"] = "admin-a"
    store.save()
    again = SessionStore(store.session_key)
    with django_assert_num_queries(1):
        assert again["who"] == "admin-a"
    assert again.session_key == store.session_key


def test_an_expired_session_is_not_read():
    store = SessionStore()
    store["who"] = "admin-a"
    store.save()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    again = SessionStore(store.session_key)
    assert "who" not in again
    # As Django's own store: the stale key is dropped, a save makes a new one.
    assert again.session_key is None
    again["who"] = "someone"
    again.save()
    assert again.session_key != store.session_key


def test_an_unknown_or_tampered_key_reads_nothing():
    assert SessionStore("x" * 32).load() == {}
    store = SessionStore()
    store["who"] = "admin-a"
    store.save()
    Session.objects.filter(session_key=store.session_key).update(session_data="tampered")
    assert SessionStore(store.session_key).load() == {}


def test_flush_and_cycle_key_are_djangos():
    store = SessionStore()
    store["who"] = "admin-a"
    store.save()
    old = store.session_key
    store.cycle_key()
    assert store.session_key != old
    assert not Session.objects.filter(session_key=old).exists()
    assert SessionStore(store.session_key)["who"] == "admin-a"
    store.flush()
    assert not Session.objects.filter(session_key=store.session_key or "").exists()
