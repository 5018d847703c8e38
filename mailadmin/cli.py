"""What the provisioning commands share: subcommands, one-line errors, passwords from stdin.

The commands (domain, aliasdomain, mailbox, alias) are thin: every write goes through the
services with actor=None (the operator at the shell is the system itself), every read through
the selectors. This module turns what those raise into one line on stderr and a non-zero exit,
reads passwords from stdin (never argv) and prints plain aligned tables, or with `--json` the
same records as JSON for scripts (the fields are listed in docs/cli.md).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar, NoReturn, TextIO, TypeVar, cast

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser, SystemCheckError
from django.http import Http404

from mailadmin.names import domain_to_unicode
from mailadmin.sizes import format_size, parse_typed_size

T = TypeVar("T")


def found(getter: Callable[..., T], **lookup: str) -> T:
    """A selector's `*_get(user=None, ...)`; its 404 becomes `no such domain: NAME`."""
    try:
        return getter(user=None, **lookup)
    except Http404 as exc:
        raise CommandError(f"{exc}: {', '.join(lookup.values())}") from None


def validation_message(exc: ValidationError, labels: Mapping[str, str] | None = None) -> str:
    """One line from a ValidationError: `field: message` per field, `; ` between fields."""
    labels = labels or {}
    if hasattr(exc, "error_dict"):
        parts = []
        for field, messages in exc.message_dict.items():
            text = " ".join(messages)
            if field == NON_FIELD_ERRORS:
                parts.append(text)
            else:
                parts.append(f"{labels.get(field, field.replace('_', '-'))}: {text}")
        line = "; ".join(parts)
    else:
        line = " ".join(exc.messages)
    return " ".join(line.split())


def size(text: str) -> int:
    """argparse type for quota sizes: "2G", "500M", "1.5GiB", "0" or "unlimited"."""
    try:
        return parse_typed_size(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(" ".join(exc.messages)) from None


def is_yes(answer: str) -> bool:
    return answer.strip().lower() in {"y", "yes"}


def plural(count: int, singular: str, many: str) -> str:
    return f"{count} {singular if count == 1 else many}"


def domain_label(ascii_name: str) -> str:
    """`bücher.example (xn--bcher-kva.example)`, or just the name when it is plain ASCII."""
    shown = domain_to_unicode(ascii_name)
    return shown if shown == ascii_name else f"{shown} ({ascii_name})"


def address_label(local_part: str, ascii_domain: str) -> str:
    stored = f"{local_part}@{ascii_domain}"
    shown = f"{local_part}@{domain_to_unicode(ascii_domain)}"
    return shown if shown == stored else f"{shown} ({stored})"


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """Left-aligned columns, two spaces apart, headers first."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [list(headers), *cells]
    ]


# One row of `list --json` or the object of `show --json`: JSON values only (sizes in bytes,
# times as ISO 8601 strings), names both as shown (Unicode) and as stored (A-labels).
Record = dict[str, Any]
# A table column: its header and how to print a record's cell.
Column = tuple[str, Callable[[Record], object]]


def iso(moment: datetime | date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment.isoformat(timespec="seconds")
    return moment.isoformat()


def owner_id(text: str) -> int | None:
    """argparse type for `--uid`/`--gid` of the set actions: a number, or `default` for the
    inherited one (None)."""
    if text == "default":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number nor 'default'") from None


def add_choice_flags(
    parser: CommandParser, dest: str, yes: tuple[str, str], no: tuple[str, str]
) -> None:
    """Two exclusive flags that answer a question with True or False; neither leaves `dest`
    None, which the service refuses when the question arises (the keep-a-copy questions)."""
    group = parser.add_mutually_exclusive_group()
    for (flag, help_text), value in ((yes, True), (no, False)):
        group.add_argument(flag, dest=dest, action="store_const", const=value, help=help_text)


def add_owner_id_options(parser: CommandParser, *, inherited_from: str) -> None:
    """`--uid`/`--gid` of a set action: a number, or `default` for the inherited one; absent
    when not given (argparse.SUPPRESS), so that only the named settings change."""
    for ids in ("uid", "gid"):
        parser.add_argument(
            f"--{ids}",
            type=owner_id,
            default=argparse.SUPPRESS,
            help=f"{ids} of delivered mail, or 'default' for {inherited_from}",
        )


def changed_settings(
    before: Mapping[str, object], after: object, *, sizes: frozenset[str] = frozenset()
) -> list[str]:
    """`field old → new` for each field of `before` whose value on `after` differs, for the
    line a set action prints (sizes with their unit, an inherited uid/gid as `default`)."""

    def shown(field: str, value: object) -> str:
        if field in sizes:
            return format_size(value)  # type: ignore[arg-type]
        if value is None:
            return "default"
        return repr(value) if isinstance(value, str) else str(value)

    return [
        f"{field.replace('_', '-')} {shown(field, old)} → {shown(field, getattr(after, field))}"
        for field, old in before.items()
        if old != getattr(after, field)
    ]


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _ActionParser(CommandParser):
    """The parser of one action: from the shell a usage error is one line too (exit 2)."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            self.exit(2, f"error: {message} (see {self.prog} --help)\n")
        raise CommandError(f"Error: {message}")


class SubcommandCommand(BaseCommand):
    """A command with actions (`domain add ...`); `handle_<action>(options)` does each one.

    Tests and scripts may pass `stdin=` to call_command: passwords and confirmations are read
    from it (default: sys.stdin).
    """

    stealth_options = ("stdin",)
    # Service field name -> what the operator typed, for error lines.
    field_labels: ClassVar[dict[str, str]] = {}

    def add_arguments(self, parser: CommandParser) -> None:
        self._subparsers = parser.add_subparsers(
            dest="action",
            metavar="ACTION",
            title="actions",
            required=True,
            parser_class=_ActionParser,
        )
        self.add_actions()

    def add_actions(self) -> None:
        raise NotImplementedError

    def action(self, name: str, help: str, *, json_output: bool = False) -> CommandParser:
        # No abbreviations: `--password` must not stand for `--password-stdin` (the value
        # typed after it would be a password on the command line).
        parser = self._subparsers.add_parser(name, help=help, description=help, allow_abbrev=False)
        if json_output:
            parser.add_argument(
                "--json",
                action="store_true",
                help="print JSON instead of text (fields: docs/cli.md)",
            )
        return cast(CommandParser, parser)

    def print_records(
        self,
        options: dict[str, Any],
        records: Iterable[Record],
        columns: Sequence[Column],
        *,
        empty: str,
    ) -> None:
        """A list action's output: a table of `columns`, or with --json an array of records
        written one record at a time (a million mailboxes are not held in memory)."""
        if options.get("json"):
            self._write_json_array(records)
            return
        rows = [[cell(record) for _header, cell in columns] for record in records]
        if not rows:
            self.stdout.write(empty)
            return
        for line in table([header for header, _cell in columns], rows):
            self.stdout.write(line)

    def print_fields(
        self, options: dict[str, Any], record: Record, fields: Sequence[tuple[str, object]]
    ) -> None:
        """A show action's output: `label: value` lines, or with --json the record."""
        if options.get("json"):
            self.stdout.write(json.dumps(record, ensure_ascii=False, indent=2))
            return
        width = max(len(label) for label, _value in fields)
        for label, value in fields:
            self.stdout.write(f"{label + ':':{width + 1}} {value}")

    def _write_json_array(self, records: Iterable[Record]) -> None:
        self.stdout.write("[", ending="")
        separator = "\n"
        for record in records:
            self.stdout.write(separator + json.dumps(record, ensure_ascii=False), ending="")
            separator = ",\n"
        self.stdout.write("\n]" if separator != "\n" else "]")

    def execute(self, *args: Any, **options: Any) -> Any:
        # From the shell a failure is one line, `error: ...`, and exit status 1; from
        # call_command the CommandError propagates as usual.
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            if (
                not getattr(self, "_called_from_command_line", False)
                or options.get("traceback")
                or isinstance(exc, SystemCheckError)
            ):
                raise
            self.stderr.write(f"error: {exc}")
            sys.exit(exc.returncode)

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdin: TextIO = options.get("stdin") or sys.stdin
        handler = getattr(self, "handle_" + options["action"].replace("-", "_"))
        try:
            handler(options)
        except ValidationError as exc:
            raise CommandError(validation_message(exc, self.field_labels)) from None
        except Http404 as exc:
            raise CommandError(str(exc) or "not found") from None
        except ObjectDoesNotExist:
            # Deleted by someone else between our read and the service's locked re-read.
            raise CommandError("it was deleted meanwhile; nothing was changed") from None

    def read_password(self) -> str:
        """One line from stdin without its line ending; a terminal is asked twice, unechoed."""
        if _isatty(self.stdin):
            first = getpass.getpass("Password: ")
            if getpass.getpass("Password again: ") != first:
                raise CommandError("the two passwords differ; nothing was changed")
            return first
        line = self.stdin.readline()
        if not line:
            raise CommandError("--password-stdin: nothing to read on stdin")
        return line.removesuffix("\n").removesuffix("\r")

    def confirm(self, question: str, *, refusal: str) -> None:
        """Ask on a terminal; anywhere else refuse with `refusal` (the caller offers --yes)."""
        if not _isatty(self.stdin):
            raise CommandError(refusal)
        self.stdout.write(f"{question} [y/N] ", ending="")
        self.stdout.flush()
        if not is_yes(self.stdin.readline()):
            raise CommandError("not confirmed; nothing was deleted")
