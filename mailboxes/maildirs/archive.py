"""Moving aside what belongs to no mailbox (`prepare_maildirs --archive-orphans DIR`)."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable

from mailboxes.maildirs.markers import read_marker
from mailboxes.maildirs.tree import (
    IGNORED_BASE_ENTRIES,
    OPEN_DIR,
    PRIVATE_MODE,
    Counts,
    is_plain_name,
)


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
        if domain in IGNORED_BASE_ENTRIES or not is_plain_name(domain):
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
                    fd = os.open(path, OPEN_DIR)
                except OSError:
                    continue
                try:
                    marker = read_marker(fd)
                finally:
                    os.close(fd)
                if marker is None or marker == owners[name]:
                    continue  # its mailbox's (an unmarked one is prepare_maildirs' to judge)
            counts.mailboxes += 1
            move(path, domain, name)
    return counts
