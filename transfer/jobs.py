"""Browser imports as jobs: created by the panel, worked on by `manage.py transfer_worker`.

A job goes queued -> checking -> checked (the preview) -> confirmed -> writing -> done. The
worker claims a job with a conditional UPDATE, so two workers never take the same one; a job
whose worker died (no heartbeat for STALE_AFTER) is taken again. Nothing is lost by that: the
check writes nothing and the import is one transaction, so a crash leaves no half import.

Small files (up to `inline_rows()` rows) are checked and imported inside the web request; the
worker is only needed for large files.

Whatever goes wrong inside one job ends that job: `check` and `write` never raise, a job they
cannot finish is marked failed with a message (the traceback goes to the log), so that neither
the upload's request nor the worker's loop stops on it, and the job is not taken up for ever.
The stored report quotes values escaped (csvformat.printable): PostgreSQL refuses a NUL in JSON.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from transfer.csvformat import CsvFile, HeaderError, printable
from transfer.importer import Importer, ImportRejected, Report, analyze_tables
from transfer.models import ImportJob, JobState

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=2)
PROGRESS_EVERY = 1.0  # seconds between progress writes


def inline_rows() -> int:
    return settings.MAILADMIN_IMPORT_INLINE_ROWS


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


def start(*, owner: Any, filename: str, data: bytes, language: str) -> ImportJob:
    """A job for an uploaded file; a small file is checked at once, inside the request.

    Never raises for the file's sake: whatever is wrong with it ends up in the job's report.
    """
    job = ImportJob.objects.create(
        owner=owner, filename=filename[:255], data=data, language=language
    )
    try:
        job.total = CsvFile(data=data).count() if data else 0
        job.save(update_fields=["total", "updated_at"])
    except Exception:
        log.exception("import job %s: the file could not be counted", job.pk)
        reason = _("internal error while checking; see the server's log")
        _end(job, JobState.FAILED, _failure(reason))
        return job
    if job.total <= inline_rows() and claim_for_request(job):
        check(job, progress=False)
    return job


def _importer(job: ImportJob, progress: ProgressWriter | None) -> Importer:
    source = CsvFile(data=bytes(job.data))
    return Importer(source, actor=job.owner, progress=progress, total=job.total or None)


def _storable(value: Any) -> Any:
    """The report's dict with every string escaped where the database or a page would choke."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


def _finish(job: ImportJob, state: str, report: Report, *, wipe: bool) -> None:
    job.state = state
    job.report = _storable(report.to_dict())
    job.phase = ""
    job.done = job.total
    update = ["state", "report", "phase", "done", "updated_at"]
    if wipe:
        job.data = b""
        update.append("data")
    job.save(update_fields=update)


def _end(job: ImportJob, state: str, report: Report) -> None:
    """End a job that `_finish` could not end: one plain UPDATE, the file wiped."""
    job.state = state
    job.report = _storable(report.to_dict())
    job.phase = ""
    job.data = b""
    ImportJob.objects.filter(pk=job.pk).update(
        state=state, report=job.report, phase="", data=b"", updated_at=timezone.now()
    )


def _failure(reason: str) -> Report:
    report = Report()
    report.error(0, reason)
    return report


def check(job: ImportJob, *, progress: bool = True) -> ImportJob:
    """The dry run: fill the job's report; nothing is written but the job. Never raises."""
    with translation.override(job.language or None):
        try:
            return _check(job, progress=progress)
        except Exception:
            # A job that fails for a reason of its own must not be retried for ever.
            log.exception("import job %s: the check failed", job.pk)
            reason = _("internal error while checking; see the server's log")
            _end(job, JobState.FAILED, _failure(reason))
            return job


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
        _finish(job, JobState.CHECKED, report, wipe=False)
    finally:
        if writer is not None:
            writer.close()
    return job


def write(job: ImportJob, *, progress: bool = True) -> ImportJob:
    """The import itself, all or nothing; the file is wiped afterwards either way. Never
    raises."""
    with translation.override(job.language or None):
        try:
            return _write(job, progress=progress)
        except Exception:
            log.exception("import job %s: the import failed; nothing was written", job.pk)
            reason = _("internal error while importing; nothing was written")
            _end(job, JobState.FAILED, _failure(reason))
            return job


def _write(job: ImportJob, *, progress: bool) -> ImportJob:
    writer = ProgressWriter(job) if progress else None
    try:
        try:
            report = _importer(job, writer).commit()
        except ImportRejected as exc:
            _finish(job, JobState.FAILED, exc.report, wipe=True)
        except HeaderError as exc:
            report = Report()
            report.error(1, str(exc))
            _finish(job, JobState.FAILED, report, wipe=True)
        else:
            _finish_done(job, report)
            analyze_tables()
    finally:
        if writer is not None:
            writer.close()
    return job


def _finish_done(job: ImportJob, report: Report) -> None:
    """The import is committed: whatever happens to its report, the job is done."""
    try:
        _finish(job, JobState.DONE, report, wipe=True)
    except Exception:
        log.exception("import job %s: imported, but its report could not be stored", job.pk)
        _end(job, JobState.DONE, Report(rows=report.rows, created=report.created, committed=True))


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
