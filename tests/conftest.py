"""Shared test set-up.

With MAILADMIN_REQUIRE_TOOLS=1 (set by .ci/run) every skipped test counts as a failure, so a
missing postmap, doveadm or database server can never pass CI silently.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_TOOLS = os.environ.get("MAILADMIN_REQUIRE_TOOLS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_TOOLS and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped, but MAILADMIN_REQUIRE_TOOLS=1 forbids skips: {reason}"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (login throttling and sessions may live there)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in Ukrainian leaves Ukrainian
    active in the thread, and a later test would read its messages translated."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _uses_database(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return (
        "db" in names
        or "transactional_db" in names
        or item.get_closest_marker("django_db") is not None
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After every test that wrote to the database: each domain's DomainUsage row still equals
    a recount of its rows, whatever the test wrote them with (services, bulk imports, raw SQL).
    The triggers of domains/usage_triggers.py keep it; this is where a bypass would show."""
    result = yield
    if _uses_database(item):
        from domains.selectors import usage_drift

        drifted = usage_drift()
        assert not drifted, f"DomainUsage differs from a recount for {drifted}"
    return result
