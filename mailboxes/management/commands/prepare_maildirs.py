from __future__ import annotations

import os
import posixpath
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from domains.selectors import domain_get
from mailadmin.cli import found, plural
from mailboxes.maildirs import Counts, active_mailboxes, prepare_maildirs


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
        if options["domain"]:
            domain = found(domain_get, name=options["domain"])
            if not (domain.active and domain.is_hosted):
                self.stdout.write(f"{domain.name} is not an active hosted domain: nothing to do.")
                return
            domain_id = domain.pk
        counts = prepare_maildirs(
            mail_base=base,
            rows=active_mailboxes(domain_id=domain_id),
            dry_run=dry_run,
            fix_owners=options["fix_owners"],
            min_uid=settings.MAILADMIN_MIN_UID,
            report=self.stdout.write,
            whole_base=domain_id is None,
        )
        self.stdout.write(_summary(counts, dry_run=dry_run))
        if counts.errors:
            raise CommandError(
                f"{plural(counts.errors, 'error', 'errors')}: some directories are not ready"
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
