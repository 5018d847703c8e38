from __future__ import annotations

import os
import posixpath
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.services import record
from domains.selectors import domain_get
from mailadmin.cli import found, plural
from mailboxes.maildirs import (
    ARCHIVED,
    Counts,
    active_mailboxes,
    archive_orphans,
    mailbox_homes,
    prepare_maildirs,
)


class Command(BaseCommand):
    help = "Create the mail directories of active mailboxes, owned by their uid/gid (as root)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would change, change nothing"
        )
        parser.add_argument("--domain", help="only this domain's mailboxes")
        parser.add_argument(
            "--fix-owners",
            action="store_true",
            help="chown/chmod existing directories whose owner or mode differs "
            "(default: report them)",
        )
        parser.add_argument(
            "--mail-base", help="the mail base (default: settings.MAILADMIN_MAIL_BASE)"
        )
        parser.add_argument(
            "--archive-orphans",
            metavar="DIR",
            help="first move every directory of no mailbox (deleted mailboxes, deleted "
            "domains, homes marked for an earlier mailbox) to DIR, on the same file system",
        )
        parser.add_argument(
            "--adopt",
            metavar="ADDRESS",
            action="append",
            default=[],
            help="accept this mailbox's unmarked home although it holds older mail "
            "(its own mail, copied in by a migration); may be repeated",
        )
        parser.add_argument(
            "--adopt-unmarked",
            action="store_true",
            help="accept every unmarked home as its mailbox's (once, after upgrading to "
            "home markers or after a migration)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base = options["mail_base"] or settings.MAILADMIN_MAIL_BASE
        if not posixpath.isabs(base):
            raise CommandError(f"the mail base must be an absolute path, not {base!r}")
        base = posixpath.normpath(base)
        if base == "/":
            raise CommandError("the mail base cannot be / itself")
        dry_run = options["dry_run"]
        if not dry_run and os.geteuid() != 0:
            raise CommandError(
                "run it as root: it creates directories owned by other users "
                "(or try --dry-run to see what it would do)"
            )
        domain_id = None
        domain_name = None
        if options["domain"]:
            domain = found(domain_get, name=options["domain"])
            if not (domain.active and domain.is_hosted):
                self.stdout.write(f"{domain.name} is not an active hosted domain: nothing to do.")
                return
            domain_id, domain_name = domain.pk, domain.name
        if options["archive_orphans"]:
            self._archive(base, options["archive_orphans"], domain_name, dry_run=dry_run)
        counts = prepare_maildirs(
            mail_base=base,
            rows=active_mailboxes(domain_id=domain_id),
            dry_run=dry_run,
            fix_owners=options["fix_owners"],
            min_uid=settings.MAILADMIN_MIN_UID,
            report=self.stdout.write,
            whole_base=domain_id is None,
            adopt=frozenset(a.strip().lower() for a in options["adopt"]),
            adopt_unmarked=options["adopt_unmarked"],
        )
        self.stdout.write(_summary(counts, dry_run=dry_run))
        if counts.errors:
            raise CommandError(
                f"{plural(counts.errors, 'error', 'errors')}: some directories are not ready"
            )

    def _archive(self, base: str, archive: str, domain_name: str | None, *, dry_run: bool) -> None:
        if not posixpath.isabs(archive):
            raise CommandError(f"the archive must be an absolute path, not {archive!r}")
        archive = posixpath.normpath(archive)
        if archive == base or archive.startswith(base + "/"):
            raise CommandError("the archive must be outside the mail base")
        homes = mailbox_homes(domain=domain_name)
        counts = archive_orphans(
            mail_base=base,
            archive=archive,
            homes=homes,
            dry_run=dry_run,
            report=self.stdout.write,
            whole_base=domain_name is None,
        )
        verb = "would archive" if dry_run else "archived"
        self.stdout.write(f"{verb} {plural(counts.orphans, 'directory', 'directories')}.")
        if counts.errors:
            raise CommandError(
                f"{plural(counts.errors, 'error', 'errors')} while archiving; nothing else done"
            )
        if not dry_run:
            # Every directory of a mailbox deleted before now is out of the mail base.
            record(
                actor=None,
                action=ARCHIVED,
                obj=None,
                domain=domain_name,
                changes={"archive": archive, "moved": counts.orphans},
            )


def _summary(counts: Counts, *, dry_run: bool) -> str:
    checked = f"{plural(counts.mailboxes, 'mailbox', 'mailboxes')} checked"
    if not counts.changes:
        changes = "nothing to change"
    elif dry_run:
        changes = f"would create {counts.created}, would fix {counts.fixed}"
    else:
        changes = f"created {counts.created}, fixed {counts.fixed}"
    notes = [
        plural(counts.warnings, "warning", "warnings"),
        plural(counts.orphans, "orphan", "orphans"),
    ]
    if counts.errors:
        notes.append(plural(counts.errors, "error", "errors"))
    line = f"{checked}: {changes}; {', '.join(notes)}."
    return f"Dry run, nothing changed. {line}" if dry_run else line
