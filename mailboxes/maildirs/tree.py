"""Safe directory work under the mail base, as root: every directory is opened relative to
its parent's descriptor with O_NOFOLLOW and changed through that descriptor (fchown, fchmod),
so a symlink planted by a mailbox owner can never redirect root's mkdir or chown. Only the
mail base's own path is followed as given: it is root's configuration."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

SHARED_MODE = 0o755
PRIVATE_MODE = 0o700
ROOT_OWNER = (0, 0)
# Entries of the mail base that are never a domain (mke2fs makes lost+found).
IGNORED_BASE_ENTRIES = frozenset({"lost+found"})

OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


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
class Dir:
    """A directory on the way down: its path for the report and an open descriptor, or None
    when it does not exist (a dry run), so everything below it would be created too."""

    path: str
    fd: int | None


def is_plain_name(name: str) -> bool:
    return bool(name) and name not in {".", ".."} and "/" not in name and "\0" not in name


def owner_text(uid: int, gid: int) -> str:
    return f"{uid}:{gid}"


@dataclass(kw_only=True)
class SafeTree:
    """Directories under the mail base, each opened relative to its parent's descriptor with
    O_NOFOLLOW and changed through that descriptor, and the report lines of a run."""

    base: str
    dry_run: bool
    fix_owners: bool
    report: Callable[[str], None]
    counts: Counts = field(default_factory=Counts)
    _fds: list[int] = field(default_factory=list)

    # Lines of the report -------------------------------------------------------------------

    def created(self, path: str, uid: int, gid: int) -> None:
        verb = "would create" if self.dry_run else "created"
        self.report(f"{verb} {path} ({owner_text(uid, gid)})")
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

    def open_base(self) -> Dir | None:
        """The mail base, created if missing. Its own path is followed: it is root's."""
        path = self.base
        if not os.path.lexists(path):
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                self.error(f"cannot create {path}: {parent} does not exist")
                return None
            if self.dry_run:
                self.created(path, *ROOT_OWNER)
                return Dir(path, None)
            try:
                os.mkdir(path, PRIVATE_MODE)
                fd = self._open(path)
                os.fchown(fd, *ROOT_OWNER)
                os.fchmod(fd, SHARED_MODE)
            except OSError as exc:
                self.error(f"cannot create {path}: {exc.strerror}")
                return None
            self.created(path, *ROOT_OWNER)
            return Dir(path, fd)
        try:
            fd = self._open(path, follow=True)
        except OSError as exc:
            self.error(f"cannot open {path}: {exc.strerror}")
            return None
        found = Dir(path, fd)
        self._check(found, *ROOT_OWNER, SHARED_MODE)
        return found

    def ensure(self, parent: Dir, name: str, uid: int, gid: int, mode: int) -> Dir | None:
        """`parent/name` as a directory owned by uid:gid with `mode`, creating it if missing;
        None when it cannot be used (a symlink, not a directory, an error: reported)."""
        path = f"{parent.path}/{name}"
        if parent.fd is None:
            self.created(path, uid, gid)
            return Dir(path, None)
        try:
            st = os.stat(name, dir_fd=parent.fd, follow_symlinks=False)
        except FileNotFoundError:
            if self.dry_run:
                self.created(path, uid, gid)
                return Dir(path, None)
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
        found = Dir(path, fd)
        self._check(found, uid, gid, mode)
        return found

    def _create(
        self, parent: Dir, name: str, path: str, uid: int, gid: int, mode: int
    ) -> Dir | None:
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
        return Dir(path, fd)

    def _check(self, found: Dir, uid: int, gid: int, mode: int) -> None:
        """Owner and mode of an existing directory: fixed with --fix-owners, else warned."""
        assert found.fd is not None
        try:
            st = os.fstat(found.fd)
            have_owner, have_mode = (st.st_uid, st.st_gid), stat.S_IMODE(st.st_mode)
            if have_owner != (uid, gid):
                was = owner_text(*have_owner)
                if self.fix_owners:
                    if not self.dry_run:
                        os.fchown(found.fd, uid, gid)
                    self.fixed("owner", found.path, f"{owner_text(uid, gid)}, was {was}")
                else:
                    self.warning(
                        f"{found.path} is owned by {was}, not {owner_text(uid, gid)}; "
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
        flags = OPEN_DIR & ~os.O_NOFOLLOW if follow else OPEN_DIR
        fd = os.open(name, flags, dir_fd=dir_fd)
        self._fds.append(fd)
        return fd

    def close(self, directory: Dir | None) -> None:
        if directory is not None and directory.fd is not None:
            self._fds.remove(directory.fd)
            os.close(directory.fd)

    def close_all(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()

    def listing(self, directory: Dir) -> set[str]:
        if directory.fd is None:
            return set()
        try:
            return set(os.listdir(directory.fd))
        except OSError as exc:
            self.error(f"cannot list {directory.path}: {exc.strerror}")
            return set()
