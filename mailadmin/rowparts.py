"""What every row of a list shares, made once instead of once per row.

A 50-row list rendered each row's fixed words with {% translate %} and each row's links with
{% url %}: the words alone were a third of rendering the rows, and a reverse() costs more
than the row around it (benchmarks, P6 and the request floor). Here:

- `labels(messages)`: the fixed words of a row in the active language, translated and
  escaped once per language and process (the catalogs do not change while it runs);
- `url_around` / `url_with`: a URL reversed once per view and fixed arguments, with the
  row's varying part put in its place.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import quote

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.encoding import iri_to_uri
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language

# What reverse() leaves unquoted in a path (django.urls.resolvers).
PATH_SAFE = "!$&'()*+,;=/~:@"
# Stands in for a row's varying text in a path.
TEXT_PLACEHOLDER = "row-text-placeholder"


class Labels:
    """A row's fixed words: `Labels({"edit": gettext_lazy("Edit")})`, then `labels.now()`
    is {"edit": "Bearbeiten"} (escaped) in the active language."""

    def __init__(self, messages: Mapping[str, Promise | str]) -> None:
        self._messages = dict(messages)
        self._in = lru_cache(maxsize=16)(self._translated)

    def _translated(self, language: str | None) -> dict[str, SafeString]:
        # `language` is the cache key; str() of a lazy text translates it into the active one.
        return {key: conditional_escape(str(text)) for key, text in self._messages.items()}

    def now(self) -> dict[str, SafeString]:
        return self._in(get_language())


@lru_cache(maxsize=1024)
def url_around(
    view_name: str, args: tuple[object, ...], placeholder: str, prefix: str, urlconf: str | None
) -> tuple[str, str]:
    """reverse(view_name, args) split around the last `placeholder` in it: (head, tail).

    `prefix` and `urlconf` are part of the cache key only: reverse() reads them itself."""
    url = reverse(view_name, args=args, urlconf=urlconf)
    head, found, tail = url.rpartition(placeholder)
    if not found:
        raise ValueError(f"{view_name} does not put its argument in the path")
    return head, tail


def url_with(view_name: str, text: str, *fixed: object) -> str:
    """reverse(view_name, args=[text, *fixed]), reversed once per view and fixed arguments.

    `text` is quoted as reverse() quotes a path argument; text that reverse() would refuse or
    treat differently (empty, or holding a slash) is reversed as it is."""
    if not text or "/" in text:
        return reverse(view_name, args=[text, *fixed])
    head, tail = url_around(
        view_name,
        (TEXT_PLACEHOLDER, *fixed),
        TEXT_PLACEHOLDER,
        get_script_prefix(),
        get_urlconf(),
    )
    return f"{head}{iri_to_uri(quote(text, safe=PATH_SAFE))}{tail}"
