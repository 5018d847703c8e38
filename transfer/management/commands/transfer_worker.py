"""manage.py transfer_worker: check and import the CSV files uploaded in the browser."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from transfer import jobs


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
        while not stopping:
            close_old_connections()
            job = jobs.run_one()
            if job is not None:
                self.stdout.write(f"job {job.pk} ({job.filename}): {job.state}")
                continue
            if options["once"]:
                return
            time.sleep(options["sleep"])
