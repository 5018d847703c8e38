"""Characters that no name, description, search term or URL part of mailadmin may hold.

Control characters (NUL above all: PostgreSQL refuses it in text and a report that holds one
cannot be stored) and the Unicode controls that reorder or hide text (bidi overrides and
isolates, zero-width joiners) have no place in anything an admin types: they break storage,
logs and terminals, and they make one address or name look like another on screen. Every input
boundary refuses them with the same rule: the form and model validators here, and the request
guard of mailadmin/middleware.py for query strings and URL paths.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Reorder or hide text without being control characters (category Cf): bidi embeddings,
# overrides and isolates, marks, zero-width characters, the soft hyphen, the BOM.
_INVISIBLE = frozenset(
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
    "\u2066\u2067\u2068\u2069\ufeff"
)


def unsafe_character(value: str, *, allow_newlines: bool = False) -> str | None:
    """The first character of `value` that no input may hold, or None.

    Refused: every control character (Unicode category Cc: C0, DEL, C1), line breaks unless
    `allow_newlines`, the line and paragraph separators, and the invisible formatting
    characters above.
    """
    for ch in value:
        if allow_newlines and ch in "\r\n\t":
            continue
        if ch in _INVISIBLE or ch in "\u2028\u2029" or unicodedata.category(ch) == "Cc":
            return ch
    return None


def describe(ch: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)`: how a message names a refused character."""
    return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'control character')})"


@deconstructible
class PlainTextValidator:
    """Refuses control and invisible formatting characters (see unsafe_character)."""

    code = "unsafe_character"

    def __init__(self, *, allow_newlines: bool = False) -> None:
        self.allow_newlines = allow_newlines

    def __call__(self, value: object) -> None:
        if not isinstance(value, str):
            return
        ch = unsafe_character(value, allow_newlines=self.allow_newlines)
        if ch is not None:
            raise ValidationError(
                _("This text holds a character that is not allowed: %(character)s."),
                code=self.code,
                params={"character": describe(ch)},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainTextValidator) and other.allow_newlines == self.allow_newlines

    def __hash__(self) -> int:
        return hash(("PlainTextValidator", self.allow_newlines))


validate_plain_text = PlainTextValidator()
