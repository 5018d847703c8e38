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

A home is handed to one mailbox only. When this makes a home it writes the marker file
`.mailadmin-mailbox` into it, holding the mailbox's token (its id and creation time, which no
later mailbox of the same address shares). An existing home is used only when its marker holds
the mailbox's own token, or when it has no marker and no mail older than the mailbox row (a
home made before markers existed); it then gets its marker. A home whose marker names another
mailbox, or an unmarked one with older mail, belongs to a deleted mailbox of the same address:
it is refused with an error and left alone, so that the new owner never sees the old owner's
mail. `archive_orphans` moves such homes, and every directory that belongs to no mailbox, out
of the mail base; `adopt` (for a migration that copied the mail in) accepts unmarked homes.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import os
import posixpath
import stat
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from audit.models import AuditEntry
from domains.models import Delivery, Domain, ServerSettings
from mailboxes.models import Mailbox, StorageFormat

SHARED_MODE = 0o755
PRIVATE_MODE = 0o700
MAILDIR_SUBDIRS = ("cur", "new", "tmp")
ROOT_OWNER = (0, 0)
CHUNK_SIZE = 2000
# Entries of the mail base that are never a domain (mke2fs makes lost+found).
IGNORED_BASE_ENTRIES = frozenset({"lost+found"})

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MARKER = ".mailadmin-mailbox"
# The audit action of a completed `prepare_maildirs --archive-orphans` run: after one, no
# directory of a mailbox deleted earlier is left in the mail base, so mailbox_create lets
# that address be used again (docs/operators.md §6).
ARCHIVED = "maildirs-archived"
MARKER_MODE = 0o644
_MARKER_MAX = 200


def homes_awaiting_archive(domain: str, local_parts: Collection[str] | None = None) -> set[str]:
    """The local parts of `domain` (of `local_parts`) whose mailbox was deleted, or whose
    domain was, after the last `prepare_maildirs --archive-orphans` run: their old mail
    directory may still be in the mail base, where virtual(8) and Dovecot would hand it to a
    new mailbox of the same address. mailbox_create and the import refuse those addresses
    until the operator's archive run has moved the directories aside (docs/operators.md §6).
    Two indexed queries on the audit log, whatever the domain's size."""
    swept = (
        AuditEntry.objects.filter(action=ARCHIVED, domain__in=[domain, ""])
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    deleted = AuditEntry.objects.filter(domain=domain, action="delete").filter(
        models.Q(object_type="mailbox") | models.Q(object_type="domain", object_repr=domain)
    )
    if swept is not None:
        deleted = deleted.filter(created_at__gt=swept)
    pending: set[str] = set()
    suffix = f"@{domain}"
    for kind, shown in deleted.values_list("object_type", "object_repr").iterator():
        if kind == "domain":
            return set(local_parts) if local_parts is not None else {"*"}
        if shown.endswith(suffix):
            pending.add(shown[: -len(suffix)])
    return pending if local_parts is None else pending & set(local_parts)


def awaiting_archive_error(address: str) -> ValidationError:
    """What mailbox_create and the import say for an address of homes_awaiting_archive."""
    return ValidationError(
        _(
            "The mailbox %(address)s was deleted and its mail directory may still be on the "
            "mail server, where the new mailbox would get the old mail. The operator moves it "
            "aside with `manage.py prepare_maildirs --archive-orphans DIR` "
            "(docs/operators.md); the address can be used again after that."
        )
        % {"address": address},
        code="awaiting_archive",
    )


def mailbox_token(pk: int, created_at: datetime.datetime) -> str:
    """What the marker of a mailbox's home holds: no other mailbox row ever has the same."""
    when = created_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"mailbox {pk} created {when}"


class MailboxDirs(NamedTuple):
    """What one active mailbox needs on disk; uid/gid resolved as the contract views do."""

    domain: str
    local_part: str
    path: str
    format: str
    uid: int | None
    gid: int | None
    # The marker token (mailbox_token) and the row's creation time; empty/None: not checked.
    token: str = ""
    created_at: datetime.datetime | None = None


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
        .values_list(
            "domain__name",
            "local_part",
            "path",
            "format",
            "owner_uid",
            "owner_gid",
            "pk",
            "created_at",
        )
    )
    for domain, local_part, path, fmt, uid, gid, pk, created in rows.iterator(
        chunk_size=CHUNK_SIZE
    ):
        yield MailboxDirs(
            domain, local_part, path, fmt, uid, gid, mailbox_token(pk, created), created
        )


def mailbox_homes(*, domain: str | None = None) -> dict[str, dict[str, str]]:
    """{domain: {local part: marker token}} of every mailbox of every hosted domain (or of
    `domain`), active or not: what archive_orphans must leave in place."""
    qs = Mailbox.objects.filter(domain__delivery=Delivery.HOSTED)
    domains = Domain.objects.filter(delivery=Delivery.HOSTED)
    if domain is not None:
        qs = qs.filter(domain__name=domain)
        domains = domains.filter(name=domain)
    homes: dict[str, dict[str, str]] = {name: {} for name in domains.values_list("name", flat=True)}
    rows = qs.values_list("domain__name", "local_part", "pk", "created_at")
    for name, local_part, pk, created_at in rows.iterator(chunk_size=CHUNK_SIZE):
        homes.setdefault(name, {})[local_part] = mailbox_token(pk, created_at)
    return homes


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
    adopt: Collection[str] = ()  # addresses whose unmarked homes are taken as they are
    adopt_unmarked: bool = False  # every unmarked home (once, after an upgrade or migration)
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
        self, domain_dir: _Dir, row: MailboxDirs, below_home: list[str] | None
    ) -> bool:
        """False (an error is reported) when an existing home belongs to another mailbox."""
        if domain_dir.fd is None or not row.token:
            return True
        address = f"{row.local_part}@{row.domain}"
        path = f"{domain_dir.path}/{row.local_part}"
        try:
            fd = os.open(row.local_part, _OPEN_DIR, dir_fd=domain_dir.fd)
        except OSError:
            return True  # missing (made now) or not a directory (ensure reports it)
        try:
            marker = _read_marker(fd)
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
            older = _mail_older_than(fd, row, below_home)
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

    def _write_marker(self, home: _Dir, token: str) -> None:
        assert home.fd is not None
        if _read_marker(home.fd) == token or self.dry_run:
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


def _read_marker(home_fd: int) -> str | None:
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


def _mail_older_than(home_fd: int, row: MailboxDirs, below_home: list[str] | None) -> str | None:
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
            current = os.open(name, _OPEN_DIR, dir_fd=current)
            opened.append(current)
        if row.format != StorageFormat.MAILDIR:
            st = os.stat(posixpath.basename(row.path), dir_fd=current, follow_symlinks=False)
            return row.path if stat.S_ISREG(st.st_mode) and st.st_mtime < limit else None
        for sub in ("cur", "new"):
            try:
                fd = os.open(sub, _OPEN_DIR, dir_fd=current)
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


def archive_orphans(
    *,
    mail_base: str,
    archive: str,
    homes: dict[str, dict[str, str]],
    dry_run: bool,
    report: Callable[[str], None],
    whole_base: bool = True,
    now: datetime.datetime | None = None,
) -> Counts:
    """Move out of the mail base every directory that belongs to no mailbox (`homes`, from
    mailbox_homes): a home of a deleted mailbox, or one whose marker names a mailbox that no
    longer exists, and (with `whole_base`) a domain directory of no hosted domain. Each goes
    to `archive`/<domain>/<name>.<UTC time> by rename(2), so `archive` must be on the same
    file system; nothing is deleted. The mailboxes' own homes and unmarked homes of existing
    mailboxes are left alone."""
    counts = Counts()
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%SZ")

    def move(source: str, domain: str, name: str) -> None:
        target_dir = f"{archive}/{domain}" if domain else archive
        target = f"{target_dir}/{name}.{stamp}"
        verb = "would archive" if dry_run else "archived"
        if not dry_run:
            try:
                os.makedirs(target_dir, mode=PRIVATE_MODE, exist_ok=True)
                if os.path.lexists(target):
                    raise FileExistsError(0, f"{target} exists")
                os.rename(source, target)
            except OSError as exc:
                report(f"error: cannot move {source} to {target}: {exc.strerror}")
                counts.errors += 1
                return
        report(f"{verb} {source} to {target}")
        counts.orphans += 1

    try:
        entries = sorted(os.listdir(mail_base))
    except OSError as exc:
        report(f"error: cannot list {mail_base}: {exc.strerror}")
        counts.errors += 1
        return counts
    for domain in entries:
        if domain in IGNORED_BASE_ENTRIES or not _is_plain_name(domain):
            continue
        domain_path = f"{mail_base}/{domain}"
        if os.path.islink(domain_path) or not os.path.isdir(domain_path):
            continue
        if domain not in homes:
            if whole_base:
                move(domain_path, "", domain)
            continue
        owners = homes[domain]
        for name in sorted(os.listdir(domain_path)):
            path = f"{domain_path}/{name}"
            if os.path.islink(path) or not os.path.isdir(path):
                continue
            if name in owners:
                try:
                    fd = os.open(path, _OPEN_DIR)
                except OSError:
                    continue
                try:
                    marker = _read_marker(fd)
                finally:
                    os.close(fd)
                if marker is None or marker == owners[name]:
                    continue  # its mailbox's (an unmarked one is prepare_maildirs' to judge)
            counts.mailboxes += 1
            move(path, domain, name)
    return counts
