"""The import worker: bad input or a broken job never stops it; each job ends, the next runs."""

from __future__ import annotations

import io
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DataError

from domains.models import Domain
from tests import factories as f
from transfer import jobs
from transfer.models import ImportJob, JobState

HASH = "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"
# A NUL inside an address: the reason quotes the value, and PostgreSQL refuses \u0000 in JSON.
POISONED = f"type,name,password\ndomain,bad.example,\nmailbox,a\x00b@bad.example,{HASH}\n"
GOOD = "type,name\ndomain,good.example\n"


@pytest.fixture
def owner():
    return get_user_model().objects.create_superuser("boss", "b@example.net", f.PASSWORD)


def queue(owner, name: str, text: str) -> ImportJob:
    data = text.encode()
    return ImportJob.objects.create(
        owner=owner, filename=name, data=data, total=text.count("\n") - 1
    )


def worker_once() -> str:
    out = io.StringIO()
    call_command("transfer_worker", "--once", "--sleep", "0", stdout=out)
    return out.getvalue()


# transaction=True: the worker runs in autocommit, as in production, so a statement the
# database refuses does not leave the test's own transaction aborted.
@pytest.mark.django_db(transaction=True)
def test_a_poisoned_job_is_reported_and_the_next_job_runs(owner) -> None:
    poisoned = queue(owner, "poisoned.csv", POISONED)
    good = queue(owner, "good.csv", GOOD)
    output = worker_once()
    poisoned.refresh_from_db()
    good.refresh_from_db()
    assert poisoned.state == JobState.CHECKED and poisoned.report["error_count"] == 1
    [[line, reason]] = poisoned.report["errors"]
    assert line == 3 and "U+0000" in reason and "\x00" not in reason
    assert good.state == JobState.CHECKED and good.report["error_count"] == 0
    assert f"job {poisoned.pk} (poisoned.csv): checked" in output
    assert f"job {good.pk} (good.csv): checked" in output


@pytest.mark.django_db(transaction=True)
def test_any_exception_of_one_job_fails_that_job_only(owner, monkeypatch, caplog) -> None:
    """Even a failure where no check catches it (here: the report cannot be stored) ends the
    job as failed, is logged, and the worker goes on with the next job."""
    broken = queue(owner, "broken.csv", GOOD.replace("good", "broken"))
    good = queue(owner, "good.csv", GOOD)
    finish = jobs._finish

    def finish_or_fail(job: ImportJob, *args, **kwargs) -> None:
        if job.pk == broken.pk:
            raise DataError("the database refused the report")
        finish(job, *args, **kwargs)

    monkeypatch.setattr(jobs, "_finish", finish_or_fail)
    with caplog.at_level(logging.ERROR, logger="transfer.jobs"):
        output = worker_once()
    broken.refresh_from_db()
    good.refresh_from_db()
    assert broken.state == JobState.FAILED and broken.data == b""
    assert broken.report["error_count"] == 1 and "internal error" in broken.report["errors"][0][1]
    assert good.state == JobState.CHECKED
    assert f"job {broken.pk} (broken.csv): failed" in output
    assert any(
        "the database refused the report" in r.exc_text for r in caplog.records if r.exc_text
    )


@pytest.mark.django_db(transaction=True)
def test_the_worker_loop_survives_an_error_outside_any_job(owner, monkeypatch) -> None:
    """An error around the jobs (the database gone for a moment) is logged; the loop goes on."""
    queue(owner, "good.csv", GOOD)
    run_one = jobs.run_one
    calls = {"n": 0}

    def flaky() -> ImportJob | None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise DataError("connection lost")
        return run_one()

    monkeypatch.setattr(jobs, "run_one", flaky)
    worker_once()
    assert Domain.objects.count() == 0  # checked, not imported: nobody confirmed it
    assert ImportJob.objects.get().state == JobState.CHECKED


@pytest.mark.django_db(transaction=True)
def test_a_poisoned_confirmed_job_fails_and_writes_nothing(owner) -> None:
    """A job confirmed with a clean report whose file is poisoned (it changed meanwhile, or the
    check was older than the rules) fails at the write; nothing is written."""
    job = queue(owner, "late.csv", POISONED)
    job.state = JobState.CONFIRMED
    job.report = {"created": {"domain": 1, "mailbox": 1}, "error_count": 0}
    job.save()
    good = queue(owner, "good.csv", GOOD)
    worker_once()
    job.refresh_from_db()
    good.refresh_from_db()
    assert job.state == JobState.FAILED and job.data == b""
    assert "\x00" not in str(job.report) and job.report["errors"][0][0] == 3
    assert good.state == JobState.CHECKED
    assert not Domain.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_report_cannot_be_stored_is_still_done(owner, monkeypatch) -> None:
    """Once the import is committed the job is done, with its counts, even if the full report
    could not be stored; the file is wiped all the same."""
    job = queue(owner, "done.csv", GOOD)
    job.state = JobState.CONFIRMED
    job.report = {"created": {"domain": 1}, "error_count": 0}
    job.save()
    finish = jobs._finish

    def finish_or_fail(job: ImportJob, state: str, *args, **kwargs) -> None:
        if state == JobState.DONE:
            raise DataError("the database refused the report")
        finish(job, state, *args, **kwargs)

    monkeypatch.setattr(jobs, "_finish", finish_or_fail)
    worker_once()
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.data == b""
    assert job.report["committed"] and job.report["created"]["domain"] == 1
    assert Domain.objects.filter(name="good.example").exists()
