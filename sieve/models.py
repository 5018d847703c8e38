"""The Sieve script the panel keeps for each mailbox, read by Dovecot through the SQL dict.

Pigeonhole asks the dict for the script's data id by name (priv/sieve/name/panel), then for
the text by that id (priv/sieve/data/ID), and keeps a compiled binary per id: a changed
script must get a new id, which data_id (a digest of the text) gives. A mailbox without a row
runs the default script (the contract view mailadmin_dovecot_sieve supplies it), so
"spam-flagged mail goes to Junk" holds for every mailbox whoever created it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mailboxes.models import Mailbox


class SieveScript(models.Model):
    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, primary_key=True, related_name="sieve_script"
    )
    data_id = models.CharField(max_length=64)
    script = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Sieve script")

    def __str__(self) -> str:
        return f"{self.mailbox_id}:{self.data_id}"
