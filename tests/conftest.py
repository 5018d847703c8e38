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
    """Each test starts with an empty cache: the dashboard keeps a superuser's totals a minute."""
    from django.core.cache import cache

    cache.clear()
    yield
