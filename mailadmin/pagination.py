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
# The page sizes a list offers (`?per_page=`); anything else is the default.
PAGE_SIZES = (25, 50, 100, 200)


def per_page(request: HttpRequest) -> int:
    """The page size the admin chose with `?per_page=`, one of PAGE_SIZES."""
    value = request.GET.get("per_page", "")
    return int(value) if value.isdigit() and int(value) in PAGE_SIZES else DEFAULT_PER_PAGE


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


def paginate_segments(
    request: HttpRequest, segments: Sequence[QuerySet[M]], per_page: int = DEFAULT_PER_PAGE
) -> PageSlice[M]:
    """paginate() over the rows of several ordered querysets, one after the other.

    For an order that no single index serves but each part of it does (a list by usage:
    the mailboxes with a quota, then those without, then those never reported): each segment
    reads only the rows of the page. A page runs one query per segment it shows rows of,
    plus a COUNT of each whole segment that its OFFSET skips (deep pages only).
    """
    number = page_number(request)
    skip = (number - 1) * per_page
    rows: list[M] = []
    for segment in segments:
        wanted = per_page + 1 - len(rows)
        if wanted <= 0:
            break
        found = list(segment[skip : skip + wanted])
        # A segment that showed rows, or was read from its start, leaves nothing to skip in
        # the next one; a segment the whole OFFSET lies beyond is counted to skip it.
        skip = 0 if found or skip == 0 else max(0, skip - segment.count())
        rows += found
    return PageSlice(
        object_list=rows[:per_page], number=number, per_page=per_page, has_next=len(rows) > per_page
    )


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """A page found by its neighbour's key (`?after=` / `?before=`), not by an OFFSET.

    The pager template reads the same names as on PageSlice; `keyset` tells it to link with
    cursors. `number` is known only on the first page (no cursor): elsewhere the position of
    the rows is not counted, which is the point.
    """

    object_list: Sequence[T]
    per_page: int
    has_next: bool
    has_previous: bool
    next_cursor: str | None
    previous_cursor: str | None
    number: int | None = None
    keyset: bool = True

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def start_index(self) -> int:
        return 1 if self.number == 1 and self.object_list else 0

    @property
    def end_index(self) -> int:
        return len(self.object_list) if self.number == 1 else 0

    def __iter__(self) -> Iterator[T]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def paginate_keyset(
    request: HttpRequest, queryset: QuerySet[M], key: str, per_page: int = DEFAULT_PER_PAGE
) -> KeysetPage[M]:
    """The page after `?after=K` (or before `?before=K`), in one query of per_page + 1 rows.

    `key` must be unique within the queryset and served by an index in that order (a domain's
    mailboxes by local_part: the unique (domain_id, local_part) index), so that a deep page
    costs what the first does: OFFSET reads and discards every row it skips. An old `?page=N`
    link still works (by OFFSET); the links this page offers are cursors.
    """
    after, before = request.GET.get("after"), request.GET.get("before")
    if before is not None and after is None:
        rows = list(queryset.filter(**{f"{key}__lt": before}).order_by(f"-{key}")[: per_page + 1])
        shown = rows[:per_page][::-1]
        return KeysetPage(
            object_list=shown,
            per_page=per_page,
            has_next=True,
            has_previous=len(rows) > per_page,
            next_cursor=_key_of(shown[-1], key) if shown else None,
            previous_cursor=_key_of(shown[0], key) if shown else None,
        )
    if after is not None:
        rows = list(queryset.filter(**{f"{key}__gt": after}).order_by(key)[: per_page + 1])
        number = None
    else:
        number = page_number(request)
        offset = (number - 1) * per_page
        rows = list(queryset.order_by(key)[offset : offset + per_page + 1])
    shown = rows[:per_page]
    return KeysetPage(
        object_list=shown,
        per_page=per_page,
        has_next=len(rows) > per_page,
        has_previous=number != 1,
        next_cursor=_key_of(shown[-1], key) if shown else None,
        # An empty page past the end goes back to the first page (no cursor).
        previous_cursor=_key_of(shown[0], key) if shown else None,
        number=1 if number == 1 else None,
    )


def _key_of(row: Model, key: str) -> str:
    return str(getattr(row, key))
