"""The CSV format of import and export: one file, one object a row, a header row first.

Columns (only `type` and `name` are required; order is free; an unknown column is an error):

    type            domain, mailbox, alias, aliasdomain or relayrecipient
    name            the domain, the mailbox or alias address (`@domain` is a catch-all),
                    the alias domain, or the relay recipient's address (local@relaydomain:
                    a relay or backup-MX domain accepts mail for its listed recipients only)
    password        mailbox: a clear password (hashed with the default scheme) or a
                    `{SCHEME}hash` kept as it is
    display_name    mailbox display name; description of a domain or an alias
    quota           mailbox quota: bytes or a size such as 2G; empty takes the domain's
                    per-mailbox maximum
    format          mailbox: maildir (default) or mbox
    maildir         mailbox: path under the mail base; empty computes domain/local/
    destinations    alias: destination addresses, separated by spaces, commas or semicolons
    target          aliasdomain: the hosted domain it is an alias of
    active          yes/no, true/false, 1/0; empty means yes
    delivery        domain: hosted (default), relay or backup
    transport       domain: a Postfix transport such as smtp:[mx.example.net]:25
    accept_any      domain, relay or backup: yes accepts mail for every address (unknown ones
                    bounce later: backscatter); empty means no, only the relay recipients
    max_mailboxes   domain limits: whole numbers, 0 or empty for no limit
    max_aliases
    max_quota       domain: largest quota of one mailbox (a size)
    total_quota     domain: sum of its mailboxes' quotas (a size)
    default_quota   domain: a new mailbox's quota when none is given (a size; 0 or empty: the
                    max_quota)
    uid, gid        domain or mailbox owner of delivered mail

The file is UTF-8 (a byte-order mark is allowed); a header that uses `;` instead of `,` (as
spreadsheets in many locales save) switches the separator to `;`. No cell may hold a control or
invisible formatting character (mailadmin/text.py), a line break included: no column holds more
than one line, and a NUL would stop the report from being stored at all (PostgreSQL refuses it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.utils.translation import gettext as _

from mailadmin.text import describe, unsafe_character

KINDS = ("domain", "aliasdomain", "mailbox", "alias", "relayrecipient")
COLUMNS = (
    "type",
    "name",
    "password",
    "display_name",
    "quota",
    "format",
    "maildir",
    "destinations",
    "target",
    "active",
    "delivery",
    "transport",
    "accept_any",
    "max_mailboxes",
    "max_aliases",
    "max_quota",
    "total_quota",
    "default_quota",
    "uid",
    "gid",
)
REQUIRED = ("type", "name")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# How much of a refused value a reason quotes.
QUOTED_MAX = 60


@dataclass(frozen=True)
class Record:
    """One row of the file: its (first) line number and its cells by column name."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class BadLine:
    """A row that could not even be read (encoding, field count), with the reason."""

    line: int
    reason: str


class HeaderError(ValueError):
    pass


def unescape_cell(value: str) -> str:
    """Undo export's formula guard: `'=x` is read back as `=x`."""
    if len(value) >= 2 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def escape_cell(value: str) -> str:
    """Make a cell inert in spreadsheets: a leading `'` before a formula character."""
    if value.startswith(FORMULA_START) or (value.startswith("'") and value[1:2] in FORMULA_START):
        return "'" + value
    return value


def printable(value: str, limit: int | None = None) -> str:
    """`value` as a report may quote it: every refused character and every lone surrogate
    escaped (`\\x00`, `\\u202e`), so that the report can be stored and shown as it is."""
    if limit is not None and len(value) > limit:
        value = value[:limit] + "…"
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unsafe_character(ch) is not None or "\ud800" <= ch <= "\udfff"
        else ch
        for ch in value
    )


def _refused_cell(header: list[str], row: list[str]) -> str | None:
    """The reason a row holds a character no cell may hold, naming the column and the character."""
    for name, cell in zip(header, row, strict=True):
        if cell.isascii() and cell.isprintable():
            continue  # most cells, at C speed; an ASCII printable character is never refused
        ch = unsafe_character(cell)
        if ch is not None:
            return _("%(column)s: %(character)s is not allowed in a cell (“%(value)s”)") % {
                "column": name,
                "character": describe(ch),
                "value": printable(cell, QUOTED_MAX),
            }
    return None


def _decoded_lines(raw: IO[bytes]) -> Iterator[str]:
    """Physical lines as text; undecodable bytes survive as lone surrogates, found later."""
    first = True
    for line in raw:
        if first:
            line = line.removeprefix(b"\xef\xbb\xbf")
            first = False
        yield line.decode("utf-8", errors="surrogateescape")


def _bad_bytes(cells: Iterable[str]) -> str | None:
    """The first byte that was not UTF-8 (kept as a lone surrogate), as 0xNN."""
    for cell in cells:
        if cell.isascii():
            continue
        try:
            cell.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"0x{ord(cell[exc.start]) - 0xDC00:02x}"
    return None


def _header(row: list[str]) -> list[str]:
    for cell in row:
        ch = unsafe_character(cell)
        if ch is not None:
            raise HeaderError(
                _("line 1: %(character)s is not allowed in a column name (“%(value)s”)")
                % {"character": describe(ch), "value": printable(cell, QUOTED_MAX)}
            )
    names = [cell.strip().lower() for cell in row]
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise HeaderError(
            _("unknown column(s): %(names)s; the columns are: %(all)s")
            % {"names": ", ".join(repr(n) for n in unknown), "all": ", ".join(COLUMNS)}
        )
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise HeaderError(
            _("the header needs the columns %(names)s") % {"names": ", ".join(missing)}
        )
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise HeaderError(_("column(s) named twice: %(names)s") % {"names": ", ".join(duplicated)})
    return names


def read_records(raw: IO[bytes]) -> Iterator[Record | BadLine]:
    """Rows of a CSV file opened in binary, one at a time (memory does not grow with the file).

    A bad header raises HeaderError; every other problem is a BadLine and reading goes on.
    """
    lines = _decoded_lines(raw)
    try:
        first = next(lines)
    except StopIteration:
        raise HeaderError(_("the file is empty")) from None
    bad = _bad_bytes([first])
    if bad:
        raise HeaderError(_("line 1 is not UTF-8 (byte %(byte)s)") % {"byte": bad})
    delimiter = ";" if ";" in first and "," not in first else ","

    def all_lines() -> Iterator[str]:
        yield first
        yield from lines

    reader = csv.reader(all_lines(), delimiter=delimiter, strict=True)
    try:
        header = _header(next(reader))
    except csv.Error as exc:
        raise HeaderError(_("line 1: %(reason)s") % {"reason": exc}) from None
    width = len(header)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield BadLine(start, _("not valid CSV: %(reason)s") % {"reason": exc})
            continue
        if not any(cell.strip() for cell in row):
            continue  # blank lines are allowed
        bad = _bad_bytes(row)
        if bad:
            yield BadLine(
                start,
                _("not UTF-8 (byte %(byte)s): save the file as UTF-8") % {"byte": bad},
            )
            continue
        if len(row) != width:
            yield BadLine(
                start,
                _("%(found)d fields where the header has %(expected)d")
                % {"found": len(row), "expected": width},
            )
            continue
        cells = [unescape_cell(cell) for cell in row]
        refused = _refused_cell(header, cells)
        if refused:
            yield BadLine(start, refused)
            continue
        yield Record(start, dict(zip(header, cells, strict=True)))


class CsvFile:
    """A CSV source that can be read several times (the importer reads it in passes)."""

    def __init__(self, path: Path | None = None, data: bytes | None = None) -> None:
        if (path is None) == (data is None):
            raise ValueError("give a path or data")
        self.path = path
        self.data = data

    def _open(self) -> IO[bytes]:
        if self.path is not None:
            return self.path.open("rb")
        assert self.data is not None
        return io.BytesIO(self.data)

    def __iter__(self) -> Iterator[Record | BadLine]:
        with self._open() as raw:
            yield from read_records(raw)

    def count(self) -> int:
        """Number of rows (a quick pass, for progress); 0 when the header is bad."""
        try:
            return sum(1 for _ in self)
        except HeaderError:
            return 0


def write_rows(
    out: IO[str], rows: Iterable[dict[str, str]], columns: tuple[str, ...] = COLUMNS
) -> int:
    """Write the header and `rows` (dicts by column) with every cell made formula-safe."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([escape_cell(row.get(column, "")) for column in columns])
        count += 1
    return count
