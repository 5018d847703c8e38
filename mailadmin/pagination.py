"""Server-side pagination without COUNT(*).

Counting a million rows on every page view costs more than showing them; instead each page
fetches one row more than it shows, which tells whether a next page exists. Totals, where a page
needs them, come from annotations it already has (a domain's mailbox count, say).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest

T = TypeVar("T")
M = TypeVar("M", bound=Model)

DEFAULT_PER_PAGE = 50
MAX_PAGE = 100_000


@dataclass(frozen=True)
class PageSlice(Generic[T]):
    object_list: Sequence[T]
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        """1-based position of the first row shown (0 for an empty page)."""
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)

    def __iter__(self) -> Iterator[T]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def page_number(request: HttpRequest, param: str = "page") -> int:
    try:
        number = int(request.GET.get(param, "1"))
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def paginate(
    request: HttpRequest, queryset: QuerySet[M], per_page: int = DEFAULT_PER_PAGE
) -> PageSlice[M]:
    """The page asked for by `?page=N` (bad or missing: 1), in one query of per_page + 1 rows.

    The queryset must be ordered, or pages would overlap.
    """
    number = page_number(request)
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    return PageSlice(
        object_list=rows[:per_page], number=number, per_page=per_page, has_next=len(rows) > per_page
    )


def paginate_then_fill(
    request: HttpRequest,
    queryset: QuerySet[M],
    fill: Callable[[list[object]], Iterable[M]],
    per_page: int = DEFAULT_PER_PAGE,
) -> PageSlice[M]:
    """Like paginate(), but the page's rows are loaded by `fill(primary keys)`: two queries.

    For pages whose rows carry costly annotations (correlated counts): PostgreSQL computes a
    select list for every row an OFFSET skips, so page 200 would count the mailboxes of 10,000
    domains to show 50. Here the ordered query only finds the page's keys.
    """
    number = page_number(request)
    offset = (number - 1) * per_page
    keys = list(queryset.values_list("pk", flat=True)[offset : offset + per_page + 1])
    shown = keys[:per_page]
    by_key = {row.pk: row for row in fill(shown)} if shown else {}
    rows = [by_key[key] for key in shown if key in by_key]
    return PageSlice(
        object_list=rows, number=number, per_page=per_page, has_next=len(keys) > per_page
    )
