"""Every page without parameters is linked from some template: a page linked from nowhere
(the owners' password policy was) exists only for those who know its URL."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[2]

# Reached otherwise, on purpose.
NOT_LINKED = {
    "set_language",  # the language form posts to it
    # The Sieve pages link each other through sieve.views.editor's `urls` (owner or admin).
    "sieve:rule_new",
    "sieve:spam",
}


def _names(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _names(pattern.url_patterns, namespace)
        elif pattern.name and not pattern.pattern.regex.groupindex:
            yield f"{prefix}{pattern.name}"


def test_every_page_without_parameters_is_linked() -> None:
    names = subprocess.run(
        ["git", "ls-files", "*.html"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    templates = "".join((ROOT / name).read_text(encoding="utf-8") for name in names)
    unlinked = sorted(
        name
        for name in set(_names(get_resolver().url_patterns)) - NOT_LINKED
        if f"'{name}'" not in templates and f'"{name}"' not in templates
    )
    assert unlinked == []
