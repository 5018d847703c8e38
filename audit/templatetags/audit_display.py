"""Audit entries for people: translated action names, Unicode domains, readable changes."""

from __future__ import annotations

from typing import Any

from django import template

from audit.labels import ACTIONS, OBJECT_TYPES
from mailadmin.names import domain_to_unicode

register = template.Library()


@register.filter
def action_label(code: str) -> str:
    return str(ACTIONS.get(code, code))


@register.filter
def object_type_label(code: str) -> str:
    return str(OBJECT_TYPES.get(code, code))


@register.filter
def unicode_domain(name: str) -> str:
    return domain_to_unicode(name) if name else ""


@register.filter
def unicode_object(entry: Any) -> str:
    """Domain-like objects and addresses with their domain shown in Unicode."""
    text = entry.object_repr or ""
    if entry.domain and entry.domain in text:
        return text.replace(entry.domain, domain_to_unicode(entry.domain))
    return text


EMPTY = "\u2013"  # an en dash: "nothing"


def _text(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or EMPTY
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


@register.filter
def change_lines(entry: Any) -> list[tuple[str, str]]:
    """(field, text) pairs: "old → new" for a change, the value for a creation."""
    changes = entry.changes or {}
    lines = []
    for key in sorted(changes):
        value = changes[key]
        if entry.action != "create" and isinstance(value, list) and len(value) == 2:
            lines.append((key, f"{_text(value[0])} → {_text(value[1])}"))
        else:
            lines.append((key, _text(value)))
    return lines
