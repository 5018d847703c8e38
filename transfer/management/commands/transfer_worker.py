"""manage.py transfer_worker: check and import the CSV files uploaded in the browser."""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from transfer import jobs

log = logging.getLogger(__name__)

# --once gives up after this many failed steps in a row (the database is gone, not one job).
ONCE_MAX_ERRORS = 3


class Command(BaseCommand):
    help = "Work on the import jobs started in the browser (run it under systemd)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="do every waiting job, then exit")
        parser.add_argument(
            "--sleep", type=float, default=2.0, help="seconds between looks for new jobs"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(_signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        errors = 0
        while not stopping:
            close_old_connections()
            # A job's own failure ends that job inside run_one (jobs.check and jobs.write never
            # raise); what is left is the database itself failing, and the worker outlives it.
            try:
                job = jobs.run_one()
            except Exception:
                errors += 1
                log.exception("transfer_worker: looking for work failed; trying again")
                if options["once"] and errors >= ONCE_MAX_ERRORS:
                    raise CommandError(f"{errors} failed steps in a row; see the log") from None
                time.sleep(options["sleep"])
                continue
            errors = 0
            if job is not None:
                self.stdout.write(f"job {job.pk} ({job.filename}): {job.state}")
                continue
            if options["once"]:
                return
            time.sleep(options["sleep"])
