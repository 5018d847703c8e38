"""The shape of a mailbox path: pure functions, no database (the model's clean() uses them).

See mailboxes/storage.py for the whole rule and who calls it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# StorageFormat's values (mailboxes.models imports this module, so not the enum itself).
MAILDIR = "maildir"
MBOX = "mbox"


MAX_PATH = 400
_SEGMENT = re.compile(r"^[A-Za-z0-9._+@=-]+$")
_PLAIN = re.compile(r"[A-Za-z0-9._+@=/-]")


def canonical_path(domain: str, local_part: str, storage_format: str) -> str:
    """Where the mailbox lives under the mail base; a trailing slash tells Postfix Maildir."""
    if storage_format == MAILDIR:
        return f"{domain}/{local_part}/"
    return f"{domain}/{local_part}/mbox"


def home_path(domain: str, local_part: str) -> str:
    """The Dovecot home of a mailbox (mailadmin_dovecot_userdb.home)."""
    return f"{domain}/{local_part}"


def check_path(path: str, *, domain: str, local_part: str, storage_format: str) -> str:
    """`path` if it is a path `local_part@domain` may have (see the module docstring), else
    ValidationError. Only the shape: whether another mailbox holds it is `path_conflict`'s."""
    if path == canonical_path(domain, local_part, storage_format):
        return path
    bad = next((ch for ch in path if not _PLAIN.match(ch)), None)
    if bad is not None:
        shown = bad if bad.isprintable() and not bad.isspace() else f"U+{ord(bad):04X}"
        raise ValidationError(
            _(
                "“%(char)s” is not allowed in a mailbox path: use letters, digits and "
                ". _ + @ = - between slashes."
            )
            % {"char": shown},
            code="unsafe_path",
        )
    if (storage_format == MAILDIR) != path.endswith("/"):
        raise ValidationError(
            _("A Maildir path ends with /, an mbox path does not (“%(path)s”).") % {"path": path},
            code="path_format",
        )
    if len(path) > MAX_PATH:
        raise ValidationError(_("The path is too long."), code="path_too_long")
    segments = path.removesuffix("/").split("/")
    if any(not _SEGMENT.match(s) or s in {".", ".."} for s in segments):
        raise ValidationError(
            _("“%(path)s” is not a plain path under the mail base (no leading /, //, . or ..).")
            % {"path": path},
            code="path_not_plain",
        )
    own = (domain, f"{local_part}@{domain}")
    if segments[0] not in own or (segments[0] == domain and len(segments) < 2):
        raise ValidationError(
            _("A mailbox path of its own lies under %(domain)s/ or %(address)s/.")
            % {"domain": domain, "address": own[1]},
            code="path_not_own",
        )
    return path


def territories(domain: str, local_part: str, path: str) -> tuple[str, ...]:
    """The directories (or mbox file) a mailbox owns: its home and its mail path."""
    home = home_path(domain, local_part)
    mail = path.removesuffix("/")
    return (home,) if mail == home else (home, mail)


def ancestors(territory: str) -> Iterator[str]:
    """`a/b/c` -> `a/b`, `a`."""
    parts = territory.split("/")
    for depth in range(len(parts) - 1, 0, -1):
        yield "/".join(parts[:depth])
