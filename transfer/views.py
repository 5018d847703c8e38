"""Import and export pages. Thin: the work is in transfer/jobs.py, transfer/importer.py and
transfer/exporter.py; every read and write is scoped to request.user."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mailadmin.access import is_superadmin, panel_admin_required, superadmin_required
from mailadmin.rendering import redirect_after_post, render_page
from transfer import jobs
from transfer.backup import write_backup
from transfer.csvformat import COLUMNS, escape_cell
from transfer.exporter import export_rows
from transfer.forms import UploadForm
from transfer.importer import Report
from transfer.models import ImportJob


def _job_for(request: HttpRequest, pk: int) -> ImportJob:
    """A job of the asking admin; anyone else's is a 404."""
    return get_object_or_404(ImportJob, pk=pk, owner_id=request.user.pk)


@panel_admin_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # A small file is checked at once; a large one waits for the worker. Whatever the file
        # holds, the answer is the job's page: its problems are in the job's report.
        job = jobs.start(
            # panel_admin_required let only a logged-in user through.
            owner=cast(Any, request.user),
            filename=upload.name,
            data=upload.read(),
            language=translation.get_language() or "",
        )
        return redirect_after_post(request, reverse("transfer:job", args=[job.pk]))
    context = {
        "form": form,
        "jobs": ImportJob.objects.filter(owner_id=request.user.pk)[:10],
        "columns": COLUMNS,
        "can_backup": is_superadmin(request.user),
    }
    return render_page(request, "transfer/index.html", context)


def _job_context(job: ImportJob) -> dict[str, object]:
    report = Report.from_dict(job.report) if job.report else None
    return {
        "job": job,
        "report": report,
        "created": (job.report or {}).get("created", {}),
        "stale": job.is_busy
        and job.heartbeat is not None
        and timezone.now() - job.heartbeat > jobs.STALE_AFTER,
    }


@panel_admin_required
@require_GET
def job(request: HttpRequest, pk: int) -> HttpResponse:
    item = _job_for(request, pk)
    return render_page(request, "transfer/job.html", _job_context(item), partial="status")


@panel_admin_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    item = _job_for(request, pk)
    if not jobs.confirm(item):
        raise Http404("this import cannot be confirmed")
    if item.total <= jobs.inline_rows() and jobs.claim_for_request(item):
        jobs.write(item, progress=False)
    return redirect_after_post(request, reverse("transfer:job", args=[item.pk]))


@panel_admin_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    item = _job_for(request, pk)
    jobs.cancel(item)
    return redirect_after_post(request, reverse("transfer:job", args=[item.pk]))


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(request: HttpRequest) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(COLUMNS)
    # Password hashes only for superadmins: a domain admin gets no offline-crackable hashes.
    for row in export_rows(request.user, include_hashes=is_superadmin(request.user)):
        yield writer.writerow([escape_cell(row.get(column, "")) for column in COLUMNS])


@panel_admin_required  # type: ignore[arg-type]  # a streaming response is a response too
@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(_csv_lines(request), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mailadmin-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@superadmin_required
@require_GET
def backup(request: HttpRequest) -> HttpResponse:
    out = io.StringIO()
    write_backup(out)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = HttpResponse(out.getvalue(), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="mailadmin-backup-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response
