"""Browser imports as jobs: created by the panel, worked on by `manage.py transfer_worker`.

A job goes queued -> checking -> checked (the preview) -> confirmed -> writing -> done. The
worker claims a job with a conditional UPDATE, so two workers never take the same one; a job
whose worker died (no heartbeat for STALE_AFTER) is taken again. Nothing is lost by that: the
check writes nothing and the import is one transaction, so a crash leaves no half import.

Small files (up to `inline_rows()` rows) are checked and imported inside the web request; the
worker is only needed for large files.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.utils import timezone, translation

from transfer.csvformat import CsvFile, HeaderError
from transfer.importer import Importer, ImportRejected, Report
from transfer.models import ImportJob, JobState

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=2)
PROGRESS_EVERY = 1.0  # seconds between progress writes


def inline_rows() -> int:
    return int(getattr(settings, "MAILADMIN_IMPORT_INLINE_ROWS", 2000))


class ProgressWriter:
    """Writes a job's progress where other sessions can see it.

    Inside the import's transaction the job row is updated through a second connection (the
    import's own writes stay invisible until the commit, progress must not). SQLite allows one
    writer at a time, so there the progress of the writing phase shows only at the end.
    """

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.last = 0.0
        self.side: BaseDatabaseWrapper | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY and done < total:
            return
        self.last = now
        beat = timezone.now()
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job.pk).update(
                phase=phase, done=done, total=total, heartbeat=beat
            )
            return
        if connection.vendor == "sqlite":
            return
        try:
            if self.side is None:
                self.side = connections.create_connection("default")
            with self.side.cursor() as cursor:
                table = ImportJob._meta.db_table
                cursor.execute(
                    f"UPDATE {table} SET phase = %s, done = %s, total = %s, heartbeat = %s"  # noqa: S608 - our own table name
                    " WHERE id = %s",
                    [phase, done, total, beat, self.job.pk],
                )
        except DatabaseError:
            log.warning("import job %s: progress could not be written", self.job.pk, exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def _importer(job: ImportJob, progress: ProgressWriter | None) -> Importer:
    source = CsvFile(data=bytes(job.data))
    return Importer(source, actor=job.owner, progress=progress, total=job.total or None)


def _finish(job: ImportJob, state: str, report: Report, *, wipe: bool) -> None:
    job.state = state
    job.report = report.to_dict()
    job.phase = ""
    job.done = job.total
    update = ["state", "report", "phase", "done", "updated_at"]
    if wipe:
        job.data = b""
        update.append("data")
    job.save(update_fields=update)


def check(job: ImportJob, *, progress: bool = True) -> ImportJob:
    """The dry run: fill the job's report; nothing is written but the job."""
    with translation.override(job.language or None):
        return _check(job, progress=progress)


def _check(job: ImportJob, *, progress: bool) -> ImportJob:
    writer = ProgressWriter(job) if progress else None
    try:
        try:
            job.total = CsvFile(data=bytes(job.data)).count()
            job.save(update_fields=["total", "updated_at"])
            report = _importer(job, writer).validate()
        except HeaderError as exc:
            report = Report()
            report.error(1, str(exc))
        except Exception:
            # A job that fails for a reason of its own must not be retried for ever.
            log.exception("import job %s: the check failed", job.pk)
            report = Report()
            report.error(0, "internal error while checking; see the worker's log")
            _finish(job, JobState.FAILED, report, wipe=True)
            return job
        _finish(job, JobState.CHECKED, report, wipe=False)
    finally:
        if writer is not None:
            writer.close()
    return job


def write(job: ImportJob, *, progress: bool = True) -> ImportJob:
    """The import itself, all or nothing; the file is wiped afterwards either way."""
    with translation.override(job.language or None):
        return _write(job, progress=progress)


def _write(job: ImportJob, *, progress: bool) -> ImportJob:
    writer = ProgressWriter(job) if progress else None
    try:
        try:
            report = _importer(job, writer).commit()
            _finish(job, JobState.DONE, report, wipe=True)
        except ImportRejected as exc:
            _finish(job, JobState.FAILED, exc.report, wipe=True)
        except HeaderError as exc:
            report = Report()
            report.error(1, str(exc))
            _finish(job, JobState.FAILED, report, wipe=True)
        except Exception:
            log.exception("import job %s: the import failed; nothing was written", job.pk)
            report = Report()
            report.error(0, "internal error while importing; nothing was written")
            _finish(job, JobState.FAILED, report, wipe=True)
    finally:
        if writer is not None:
            writer.close()
    return job


def _claim(job: ImportJob, before: str, after: str) -> bool:
    """Move `job` from `before` to `after` unless someone else did first."""
    claimed = (
        ImportJob.objects.filter(pk=job.pk, state=before).update(
            state=after, heartbeat=timezone.now(), updated_at=timezone.now()
        )
        == 1
    )
    if claimed:
        job.state = after
    return claimed


def claim_for_request(job: ImportJob) -> bool:
    """The web request takes a small job itself (a worker may not be running)."""
    if job.state == JobState.QUEUED:
        return _claim(job, JobState.QUEUED, JobState.CHECKING)
    if job.state == JobState.CONFIRMED:
        return _claim(job, JobState.CONFIRMED, JobState.WRITING)
    return False


def run_one() -> ImportJob | None:
    """Take the oldest job that needs work, do one step of it, return it (None: nothing to do).

    The worker calls this in a loop; tests call it directly instead of running the worker.
    """
    stale = timezone.now() - STALE_AFTER
    # A job left in checking/writing by a dead worker goes back to its queue.
    ImportJob.objects.filter(state=JobState.CHECKING, heartbeat__lt=stale).update(
        state=JobState.QUEUED
    )
    ImportJob.objects.filter(state=JobState.WRITING, heartbeat__lt=stale).update(
        state=JobState.CONFIRMED
    )
    waiting = ImportJob.objects.filter(
        Q(state=JobState.QUEUED) | Q(state=JobState.CONFIRMED)
    ).order_by("created_at", "pk")
    for job in waiting.select_related("owner")[:5]:
        if job.state == JobState.QUEUED and _claim(job, JobState.QUEUED, JobState.CHECKING):
            return check(job)
        if job.state == JobState.CONFIRMED and _claim(job, JobState.CONFIRMED, JobState.WRITING):
            return write(job)
    return None


def confirm(job: ImportJob) -> bool:
    """The admin's go-ahead after the preview; only a clean check can be confirmed."""
    report = Report.from_dict(job.report)
    if job.state != JobState.CHECKED or not report.ok:
        return False
    return _claim(job, JobState.CHECKED, JobState.CONFIRMED)


def cancel(job: ImportJob) -> bool:
    for state in (JobState.QUEUED, JobState.CHECKED, JobState.CONFIRMED):
        if ImportJob.objects.filter(pk=job.pk, state=state).update(
            state=JobState.CANCELLED, data=b"", updated_at=timezone.now()
        ):
            job.state = JobState.CANCELLED
            return True
    return False
