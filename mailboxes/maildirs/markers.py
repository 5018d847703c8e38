"""The marker of a home (`.mailadmin-mailbox`, holding its mailbox's token) and the other
evidence of whose a home is: mail older than the mailbox row. Read through descriptors opened
without following symlinks: a home is its owner's."""

from __future__ import annotations

import os
import posixpath
import stat

from mailboxes.maildirs.rows import MailboxDirs
from mailboxes.maildirs.tree import OPEN_DIR
from mailboxes.models import StorageFormat

MARKER = ".mailadmin-mailbox"
MARKER_MODE = 0o644
_MARKER_MAX = 200


def read_marker(home_fd: int) -> str | None:
    """The token in a home's marker; None when there is none (a symlink counts as none)."""
    try:
        fd = os.open(MARKER, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=home_fd)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, _MARKER_MAX).decode("utf-8", errors="replace").strip()
    finally:
        os.close(fd)


def mail_older_than(home_fd: int, row: MailboxDirs, below_home: list[str] | None) -> str | None:
    """A message (or mbox file) in the home older than the mailbox row, named; None if none.

    Read through descriptors opened without following symlinks: the home is its owner's."""
    if row.created_at is None:
        return None
    limit = row.created_at.timestamp()
    opened: list[int] = []
    try:
        current = home_fd
        names = below_home if row.format == StorageFormat.MAILDIR else []
        for name in names or []:
            current = os.open(name, OPEN_DIR, dir_fd=current)
            opened.append(current)
        if row.format != StorageFormat.MAILDIR:
            st = os.stat(posixpath.basename(row.path), dir_fd=current, follow_symlinks=False)
            return row.path if stat.S_ISREG(st.st_mode) and st.st_mtime < limit else None
        for sub in ("cur", "new"):
            try:
                fd = os.open(sub, OPEN_DIR, dir_fd=current)
            except OSError:
                continue
            opened.append(fd)
            with os.scandir(fd) as entries:
                for entry in entries:
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(st.st_mode) and st.st_mtime < limit:
                        return f"{sub}/{entry.name}"
    except OSError:
        return None
    finally:
        for fd in opened:
            os.close(fd)
    return None
