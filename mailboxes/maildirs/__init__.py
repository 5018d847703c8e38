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

Modules: `rows` (the mailboxes, from the database), `tree` (directory work through
descriptors), `markers` (whose a home is), `prepare` (the run), `archive` (archive_orphans),
`awaiting` (the addresses whose old home may still wait for an archive run).
"""

from __future__ import annotations

from mailboxes.maildirs.archive import archive_orphans
from mailboxes.maildirs.awaiting import ARCHIVED, awaiting_archive_error, homes_awaiting_archive
from mailboxes.maildirs.markers import MARKER
from mailboxes.maildirs.prepare import prepare_maildirs
from mailboxes.maildirs.rows import MailboxDirs, active_mailboxes, mailbox_homes, mailbox_token
from mailboxes.maildirs.tree import Counts

__all__ = [
    "ARCHIVED",
    "MARKER",
    "Counts",
    "MailboxDirs",
    "active_mailboxes",
    "archive_orphans",
    "awaiting_archive_error",
    "homes_awaiting_archive",
    "mailbox_homes",
    "mailbox_token",
    "prepare_maildirs",
]
