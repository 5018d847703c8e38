"""The prepare_maildirs run: every active mailbox's home (and Maildir) made or checked, in
one pass over the rows, domain by domain; a home that belongs to another mailbox is refused;
what belongs to no active mailbox is reported as an orphan and never touched."""

from __future__ import annotations

import contextlib
import itertools
import os
import posixpath
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from mailboxes.maildirs.markers import MARKER, MARKER_MODE, mail_older_than, read_marker
from mailboxes.maildirs.rows import MailboxDirs
from mailboxes.maildirs.tree import (
    IGNORED_BASE_ENTRIES,
    OPEN_DIR,
    PRIVATE_MODE,
    ROOT_OWNER,
    SHARED_MODE,
    Counts,
    Dir,
    SafeTree,
    is_plain_name,
    owner_text,
)
from mailboxes.models import StorageFormat

MAILDIR_SUBDIRS = ("cur", "new", "tmp")


@dataclass(kw_only=True)
class _Run(SafeTree):
    min_uid: int
    adopt: Collection[str] = ()  # addresses whose unmarked homes are taken as they are
    adopt_unmarked: bool = False  # every unmarked home (once, after an upgrade or migration)

    # Mailboxes -----------------------------------------------------------------------------

    def mailbox(self, domain_dir: Dir, row: MailboxDirs) -> None:
        address = f"{row.local_part}@{row.domain}"
        if row.uid is None or row.gid is None:
            self.warning(f"{address}: no uid/gid (no server settings row); skipped")
            return
        if row.uid < self.min_uid or row.gid < self.min_uid:
            self.warning(
                f"{address}: uid/gid {owner_text(row.uid, row.gid)} is below MAILADMIN_MIN_UID "
                f"{self.min_uid}, which Postfix and Dovecot refuse; skipped"
            )
            return
        below_home = self._below_home(row)
        if not self._home_is_its_own(domain_dir, row, below_home):
            return
        if below_home is None:
            self.warning(
                f"{address}: its path {row.path!r} is not inside its home "
                f"{row.domain}/{row.local_part}; only the home is prepared"
            )
        home = self.ensure(domain_dir, row.local_part, row.uid, row.gid, PRIVATE_MODE)
        opened = [home]
        try:
            if home is not None and home.fd is not None and row.token:
                self._write_marker(home, row.token)
            if below_home is None:
                return
            current = home
            for name in below_home:
                if current is None:
                    return
                current = self.ensure(current, name, row.uid, row.gid, PRIVATE_MODE)
                opened.append(current)
            if current is None or row.format != StorageFormat.MAILDIR:
                return
            for name in MAILDIR_SUBDIRS:
                self.close(self.ensure(current, name, row.uid, row.gid, PRIVATE_MODE))
        finally:
            for directory in reversed(opened):
                self.close(directory)

    # Who a home belongs to -------------------------------------------------------------------

    def _home_is_its_own(
        self, domain_dir: Dir, row: MailboxDirs, below_home: list[str] | None
    ) -> bool:
        """False (an error is reported) when an existing home belongs to another mailbox."""
        if domain_dir.fd is None or not row.token:
            return True
        address = f"{row.local_part}@{row.domain}"
        path = f"{domain_dir.path}/{row.local_part}"
        try:
            fd = os.open(row.local_part, OPEN_DIR, dir_fd=domain_dir.fd)
        except OSError:
            return True  # missing (made now) or not a directory (ensure reports it)
        try:
            marker = read_marker(fd)
            if marker == row.token:
                return True
            if marker is not None:
                self.error(
                    f"{address}: {path} is the home of an earlier mailbox ({marker}), not of "
                    f"this one ({row.token}); refusing to hand it over. Move it away "
                    "(prepare_maildirs --archive-orphans DIR) and run again"
                )
                return False
            if self.adopt_unmarked or address in self.adopt:
                return True
            older = mail_older_than(fd, row, below_home)
            if older is None:
                return True
            self.error(
                f"{address}: {path} has no {MARKER} and holds mail ({older}) older than the "
                f"mailbox (created {row.created_at:%Y-%m-%d %H:%M:%S}): an earlier mailbox's? "
                "Move it out of the mail base by hand, or if it is this mailbox's own mail "
                f"(copied in by a migration) run with --adopt {address}"
            )
            return False
        finally:
            os.close(fd)

    def _write_marker(self, home: Dir, token: str) -> None:
        assert home.fd is not None
        if read_marker(home.fd) == token or self.dry_run:
            return
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(MARKER, dir_fd=home.fd)  # a planted one (a symlink, say)
            fd = os.open(
                MARKER,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                MARKER_MODE,
                dir_fd=home.fd,
            )
            try:
                os.fchmod(fd, MARKER_MODE)
                os.write(fd, f"{token}\n".encode())
            finally:
                os.close(fd)
        except OSError as exc:
            self.error(f"cannot write {home.path}/{MARKER}: {exc.strerror}")

    def _below_home(self, row: MailboxDirs) -> list[str] | None:
        """The directories between the home and the Maildir (or the mbox file's directory):
        [] when that is the home itself, None when the path leaves the home."""
        home = f"{row.domain}/{row.local_part}"
        if row.format == StorageFormat.MAILDIR:
            target = row.path.rstrip("/")
        else:
            target = posixpath.dirname(row.path)
        if target == home:
            return []
        if not target.startswith(home + "/"):
            return None
        names = target[len(home) + 1 :].split("/")
        return names if all(is_plain_name(name) for name in names) else None

    def run(self, rows: Iterable[MailboxDirs], *, whole_base: bool) -> Counts:
        # The query first: a database that cannot answer leaves the disk untouched.
        pending = iter(rows)
        first = next(pending, None)
        rows = pending if first is None else itertools.chain([first], pending)
        try:
            base = self.open_base()
            if base is None:
                return self.counts
            self._domains(base, rows, whole_base=whole_base)
        finally:
            self.close_all()
        return self.counts

    def _domains(self, base: Dir, rows: Iterable[MailboxDirs], *, whole_base: bool) -> None:
        unseen_domains = self.listing(base) - IGNORED_BASE_ENTRIES if whole_base else set()
        domain_name: str | None = None
        domain_dir: Dir | None = None
        unseen: set[str] = set()
        for row in rows:
            self.counts.mailboxes += 1
            if row.domain != domain_name:
                self._orphans(domain_dir, unseen)
                self.close(domain_dir)
                domain_name = row.domain
                unseen_domains.discard(domain_name)
                domain_dir, unseen = None, set()
                if not is_plain_name(domain_name):
                    self.warning(f"{domain_name!r} cannot be a directory name; skipped")
                    continue
                domain_dir = self.ensure(base, domain_name, *ROOT_OWNER, SHARED_MODE)
                if domain_dir is not None:
                    unseen = self.listing(domain_dir)
            if domain_dir is None:
                continue
            unseen.discard(row.local_part)
            if not is_plain_name(row.local_part):
                self.warning(f"{row.local_part!r} cannot be a directory name; skipped")
                continue
            self.mailbox(domain_dir, row)
        self._orphans(domain_dir, unseen)
        self.close(domain_dir)
        for name in sorted(unseen_domains):
            self.orphan(f"{base.path}/{name}", "no active mailbox in this domain")

    def _orphans(self, domain_dir: Dir | None, unseen: set[str]) -> None:
        if domain_dir is None:
            return
        for name in sorted(unseen):
            self.orphan(f"{domain_dir.path}/{name}", "no active mailbox")


def prepare_maildirs(
    *,
    mail_base: str,
    rows: Iterable[MailboxDirs],
    dry_run: bool,
    fix_owners: bool,
    min_uid: int,
    report: Callable[[str], None],
    whole_base: bool = True,
    adopt: Collection[str] = (),
    adopt_unmarked: bool = False,
) -> Counts:
    """Make the directories of `rows` under `mail_base` (absolute, normalised); every action,
    warning and orphan goes to `report` as one line. `whole_base`: also report directories of
    the mail base that are no domain with an active mailbox (off when only one domain runs).
    `adopt`: addresses whose unmarked homes holding older mail are theirs all the same;
    `adopt_unmarked`: every unmarked home is (after an upgrade or a migration)."""
    run = _Run(
        base=mail_base,
        dry_run=dry_run,
        fix_owners=fix_owners,
        min_uid=min_uid,
        report=report,
        adopt=adopt,
        adopt_unmarked=adopt_unmarked,
    )
    return run.run(rows, whole_base=whole_base)
