"""The filter and vacation pages: one set of pages (pages.py), reached by the mailbox's owner
under /me/ (owner.py) and by its admins from the mailbox in the panel (admin.py)."""
