"""The mail directories on disk: what `manage.py prepare_maildirs` does, run as root.

Postfix's virtual(8) delivers as the mailbox's uid/gid and cannot create the directories above
a mailbox, since the mail base is root's. For every active mailbox of every active hosted
domain this makes sure that, under the mail base:

- the mail base and each domain directory exist, root-owned, mode 0755 (several uids may share
  a domain);
- the home `domain/local` exists, owned by the mailbox's uid:gid, mode 0700;
- for Maildir, the Maildir (normally the home itself) and its `cur`, `new`, `tmp` exist, uid:gid
  0700; for mbox only the home (virtual(8) creates the mbox file, Dovecot keeps the other
  folders in ~/mail).

Safety, since a mailbox owner controls what is inside their home: every directory is opened
relative to its parent's file descriptor with O_NOFOLLOW and changed through that descriptor
(fchown, fchmod), so a symlink planted by a mailbox owner can never redirect root's mkdir or
chown; a symlink where a directory belongs is refused with a warning. Only the mail base's own
path is followed as given: it is root's configuration. Directories that belong to no active
mailbox are reported as orphans and never touched.

Rows come from one query, read through a server-side cursor in chunks; the only per-domain
memory is that domain directory's listing, for the orphan report.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Subquery
from django.db.models.functions import Coalesce

from domains.models import Delivery, ServerSettings
from mailboxes.models import Mailbox, StorageFormat

SHARED_MODE = 0o755
PRIVATE_MODE = 0o700
MAILDIR_SUBDIRS = ("cur", "new", "tmp")
ROOT_OWNER = (0, 0)
CHUNK_SIZE = 2000
# Entries of the mail base that are never a domain (mke2fs makes lost+found).
IGNORED_BASE_ENTRIES = frozenset({"lost+found"})

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class MailboxDirs(NamedTuple):
    """What one active mailbox needs on disk; uid/gid resolved as the contract views do."""

    domain: str
    local_part: str
    path: str
    format: str
    uid: int | None
    gid: int | None


def active_mailboxes(*, domain_id: int | None = None) -> Iterator[MailboxDirs]:
    """Every active mailbox of every active hosted domain, in one query, streamed.

    The same rows and the same uid/gid as `mailadmin_dovecot_userdb` (mailbox > domain >
    server default, `LEFT JOIN domains_serversettings s ON s.id = 1`); a test pins the two
    together. Ordered by domain so that each domain's rows come together.
    """
    server = ServerSettings.objects.filter(id=1)
    qs = Mailbox.objects.filter(active=True, domain__active=True, domain__delivery=Delivery.HOSTED)
    if domain_id is not None:
        qs = qs.filter(domain_id=domain_id)
    rows = (
        qs.annotate(
            owner_uid=Coalesce("uid", "domain__uid", Subquery(server.values("default_uid"))),
            owner_gid=Coalesce("gid", "domain__gid", Subquery(server.values("default_gid"))),
        )
        .order_by("domain_id", "local_part")
        .values_list("domain__name", "local_part", "path", "format", "owner_uid", "owner_gid")
    )
    for row in rows.iterator(chunk_size=CHUNK_SIZE):
        yield MailboxDirs(*row)


@dataclass
class Counts:
    mailboxes: int = 0
    created: int = 0
    fixed: int = 0
    warnings: int = 0
    orphans: int = 0
    errors: int = 0

    @property
    def changes(self) -> int:
        return self.created + self.fixed


@dataclass
class _Dir:
    """A directory on the way down: its path for the report and an open descriptor, or None
    when it does not exist (a dry run), so everything below it would be created too."""

    path: str
    fd: int | None


def _is_plain_name(name: str) -> bool:
    return bool(name) and name not in {".", ".."} and "/" not in name and "\0" not in name


def _owner(uid: int, gid: int) -> str:
    return f"{uid}:{gid}"


@dataclass
class _Run:
    base: str
    dry_run: bool
    fix_owners: bool
    min_uid: int
    report: Callable[[str], None]
    counts: Counts = field(default_factory=Counts)
    _fds: list[int] = field(default_factory=list)

    # Lines of the report -------------------------------------------------------------------

    def created(self, path: str, uid: int, gid: int) -> None:
        verb = "would create" if self.dry_run else "created"
        self.report(f"{verb} {path} ({_owner(uid, gid)})")
        self.counts.created += 1

    def fixed(self, what: str, path: str, detail: str) -> None:
        verb = "would fix" if self.dry_run else "fixed"
        self.report(f"{verb} {what} {path} ({detail})")
        self.counts.fixed += 1

    def warning(self, text: str) -> None:
        self.report(f"warning: {text}")
        self.counts.warnings += 1

    def error(self, text: str) -> None:
        self.report(f"error: {text}")
        self.counts.errors += 1

    def orphan(self, path: str, why: str) -> None:
        self.report(f"orphan: {path} ({why}; left alone)")
        self.counts.orphans += 1

    # Directories ---------------------------------------------------------------------------

    def open_base(self) -> _Dir | None:
        """The mail base, created if missing. Its own path is followed: it is root's."""
        path = self.base
        if not os.path.lexists(path):
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                self.error(f"cannot create {path}: {parent} does not exist")
                return None
            if self.dry_run:
                self.created(path, *ROOT_OWNER)
                return _Dir(path, None)
            try:
                os.mkdir(path, PRIVATE_MODE)
                fd = self._open(path)
                os.fchown(fd, *ROOT_OWNER)
                os.fchmod(fd, SHARED_MODE)
            except OSError as exc:
                self.error(f"cannot create {path}: {exc.strerror}")
                return None
            self.created(path, *ROOT_OWNER)
            return _Dir(path, fd)
        try:
            fd = self._open(path, follow=True)
        except OSError as exc:
            self.error(f"cannot open {path}: {exc.strerror}")
            return None
        found = _Dir(path, fd)
        self._check(found, *ROOT_OWNER, SHARED_MODE)
        return found

    def ensure(self, parent: _Dir, name: str, uid: int, gid: int, mode: int) -> _Dir | None:
        """`parent/name` as a directory owned by uid:gid with `mode`, creating it if missing;
        None when it cannot be used (a symlink, not a directory, an error: reported)."""
        path = f"{parent.path}/{name}"
        if parent.fd is None:
            self.created(path, uid, gid)
            return _Dir(path, None)
        try:
            st = os.stat(name, dir_fd=parent.fd, follow_symlinks=False)
        except FileNotFoundError:
            if self.dry_run:
                self.created(path, uid, gid)
                return _Dir(path, None)
            return self._create(parent, name, path, uid, gid, mode)
        except OSError as exc:
            self.error(f"cannot read {path}: {exc.strerror}")
            return None
        if stat.S_ISLNK(st.st_mode):
            self.warning(f"{path} is a symlink; refusing to follow it, left alone")
            return None
        if not stat.S_ISDIR(st.st_mode):
            self.warning(f"{path} is not a directory; left alone")
            return None
        try:
            fd = self._open(name, dir_fd=parent.fd)
        except OSError as exc:
            # ELOOP or ENOTDIR: swapped for a symlink or a file since the stat above.
            self.error(f"cannot open {path}: {exc.strerror}")
            return None
        found = _Dir(path, fd)
        self._check(found, uid, gid, mode)
        return found

    def _create(
        self, parent: _Dir, name: str, path: str, uid: int, gid: int, mode: int
    ) -> _Dir | None:
        assert parent.fd is not None
        try:
            try:
                os.mkdir(name, PRIVATE_MODE, dir_fd=parent.fd)
            except FileExistsError:
                # Made by someone else meanwhile: check it like any existing directory.
                return self.ensure(parent, name, uid, gid, mode)
            fd = self._open(name, dir_fd=parent.fd)
            os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
        except OSError as exc:
            self.error(f"cannot create {path}: {exc.strerror}")
            return None
        self.created(path, uid, gid)
        return _Dir(path, fd)

    def _check(self, found: _Dir, uid: int, gid: int, mode: int) -> None:
        """Owner and mode of an existing directory: fixed with --fix-owners, else warned."""
        assert found.fd is not None
        try:
            st = os.fstat(found.fd)
            have_owner, have_mode = (st.st_uid, st.st_gid), stat.S_IMODE(st.st_mode)
            if have_owner != (uid, gid):
                was = _owner(*have_owner)
                if self.fix_owners:
                    if not self.dry_run:
                        os.fchown(found.fd, uid, gid)
                    self.fixed("owner", found.path, f"{_owner(uid, gid)}, was {was}")
                else:
                    self.warning(
                        f"{found.path} is owned by {was}, not {_owner(uid, gid)}; "
                        "left as is (--fix-owners changes it)"
                    )
            if have_mode != mode:
                if self.fix_owners:
                    if not self.dry_run:
                        os.fchmod(found.fd, mode)
                    self.fixed("mode", found.path, f"{mode:04o}, was {have_mode:04o}")
                else:
                    self.warning(
                        f"{found.path} has mode {have_mode:04o}, not {mode:04o}; "
                        "left as is (--fix-owners changes it)"
                    )
        except OSError as exc:
            self.error(f"cannot change {found.path}: {exc.strerror}")

    def _open(self, name: str, *, dir_fd: int | None = None, follow: bool = False) -> int:
        flags = _OPEN_DIR & ~os.O_NOFOLLOW if follow else _OPEN_DIR
        fd = os.open(name, flags, dir_fd=dir_fd)
        self._fds.append(fd)
        return fd

    def close(self, directory: _Dir | None) -> None:
        if directory is not None and directory.fd is not None:
            self._fds.remove(directory.fd)
            os.close(directory.fd)

    def close_all(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()

    def listing(self, directory: _Dir) -> set[str]:
        if directory.fd is None:
            return set()
        try:
            return set(os.listdir(directory.fd))
        except OSError as exc:
            self.error(f"cannot list {directory.path}: {exc.strerror}")
            return set()

    # Mailboxes -----------------------------------------------------------------------------

    def mailbox(self, domain_dir: _Dir, row: MailboxDirs) -> None:
        address = f"{row.local_part}@{row.domain}"
        if row.uid is None or row.gid is None:
            self.warning(f"{address}: no uid/gid (no server settings row); skipped")
            return
        if row.uid < self.min_uid or row.gid < self.min_uid:
            self.warning(
                f"{address}: uid/gid {_owner(row.uid, row.gid)} is below MAILADMIN_MIN_UID "
                f"{self.min_uid}, which Postfix and Dovecot refuse; skipped"
            )
            return
        below_home = self._below_home(row)
        if below_home is None:
            self.warning(
                f"{address}: its path {row.path!r} is not inside its home "
                f"{row.domain}/{row.local_part}; only the home is prepared"
            )
        home = self.ensure(domain_dir, row.local_part, row.uid, row.gid, PRIVATE_MODE)
        opened = [home]
        try:
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
        return names if all(_is_plain_name(name) for name in names) else None

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

    def _domains(self, base: _Dir, rows: Iterable[MailboxDirs], *, whole_base: bool) -> None:
        unseen_domains = self.listing(base) - IGNORED_BASE_ENTRIES if whole_base else set()
        domain_name: str | None = None
        domain_dir: _Dir | None = None
        unseen: set[str] = set()
        for row in rows:
            self.counts.mailboxes += 1
            if row.domain != domain_name:
                self._orphans(domain_dir, unseen)
                self.close(domain_dir)
                domain_name = row.domain
                unseen_domains.discard(domain_name)
                domain_dir, unseen = None, set()
                if not _is_plain_name(domain_name):
                    self.warning(f"{domain_name!r} cannot be a directory name; skipped")
                    continue
                domain_dir = self.ensure(base, domain_name, *ROOT_OWNER, SHARED_MODE)
                if domain_dir is not None:
                    unseen = self.listing(domain_dir)
            if domain_dir is None:
                continue
            unseen.discard(row.local_part)
            if not _is_plain_name(row.local_part):
                self.warning(f"{row.local_part!r} cannot be a directory name; skipped")
                continue
            self.mailbox(domain_dir, row)
        self._orphans(domain_dir, unseen)
        self.close(domain_dir)
        for name in sorted(unseen_domains):
            self.orphan(f"{base.path}/{name}", "no active mailbox in this domain")

    def _orphans(self, domain_dir: _Dir | None, unseen: set[str]) -> None:
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
) -> Counts:
    """Make the directories of `rows` under `mail_base` (absolute, normalised); every action,
    warning and orphan goes to `report` as one line. `whole_base`: also report directories of
    the mail base that are no domain with an active mailbox (off when only one domain runs)."""
    run = _Run(
        base=mail_base, dry_run=dry_run, fix_owners=fix_owners, min_uid=min_uid, report=report
    )
    return run.run(rows, whole_base=whole_base)
