"""The import pages: upload, preview, confirm; large files through the worker's one step."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from domains.models import Domain
from mailboxes.models import Mailbox
from tests import factories as f
from transfer import jobs
from transfer.models import ImportJob, JobState

pytestmark = pytest.mark.django_db

HASH = "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"


@pytest.fixture
def superadmin():
    return get_user_model().objects.create_superuser("root", "root@example.net", f.PASSWORD)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, text: str, name: str = "in.csv"):
    data = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(reverse("transfer:index"), {"file": data})


def mailbox_rows(domain: str, n: int) -> str:
    return "".join(f"mailbox,user{i}@{domain},{HASH}\n" for i in range(n))


def test_small_file_is_checked_at_once_and_imported_after_confirmation(superadmin) -> None:
    client = client_for(superadmin)
    response = upload(
        client, "type,name,password\ndomain,web.example,\n" + mailbox_rows("web.example", 3)
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "transfer:job", args=[job.pk]
    )
    assert job.state == JobState.CHECKED and job.report["created"]["mailbox"] == 3
    page = client.get(response["Location"]).content.decode()
    assert "Nothing has been written yet" in page and "Import now" in page
    assert not Domain.objects.exists()  # the preview writes nothing
    client.post(reverse("transfer:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert job.data == b""  # clear passwords do not stay in the database
    assert Mailbox.objects.filter(domain__name="web.example").count() == 3


def test_bad_lines_are_shown_and_cannot_be_confirmed(superadmin) -> None:
    client = client_for(superadmin)
    upload(client, "type,name,password\ndomain,web.example,\nmailbox,broken,x\n")
    job = ImportJob.objects.get()
    page = client.get(reverse("transfer:job", args=[job.pk])).content.decode()
    assert "1 bad line" in page and "<td>3</td>" in page and "not an e-mail address" in page
    assert "Import now" not in page
    assert client.post(reverse("transfer:confirm", args=[job.pk])).status_code == 404
    assert not Domain.objects.exists()


def test_large_file_goes_through_the_worker_with_progress(superadmin, settings) -> None:
    settings.MAILADMIN_IMPORT_INLINE_ROWS = 10
    client = client_for(superadmin)
    upload(client, "type,name,password\ndomain,big.example,\n" + mailbox_rows("big.example", 2500))
    job = ImportJob.objects.get()
    assert job.state == JobState.QUEUED and job.total == 2501
    page = client.get(reverse("transfer:job", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert (
        b"Waiting for the import worker" in page.content
        and b'hx-trigger="every 2s"' in page.content
    )
    assert jobs.run_one() is not None  # the worker's step: the check
    job.refresh_from_db()
    assert job.state == JobState.CHECKED and job.report["created"]["mailbox"] == 2500
    client.post(reverse("transfer:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == JobState.CONFIRMED  # too big to write inside the request
    assert not Mailbox.objects.exists()
    jobs.run_one()  # the worker's step: the import
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.done == job.total
    assert Mailbox.objects.count() == 2500
    assert jobs.run_one() is None


def test_job_of_a_dead_worker_is_taken_up_again(superadmin) -> None:
    job = ImportJob.objects.create(
        owner=superadmin,
        filename="x.csv",
        data=b"type,name\ndomain,again.example\n",
        state=JobState.WRITING,
        heartbeat=timezone.now() - timedelta(minutes=10),
        report={"created": {"domain": 1}, "error_count": 0},
    )
    assert jobs.run_one() is not None
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert Domain.objects.filter(name="again.example").exists()


def test_domain_admin_imports_only_into_their_domains() -> None:
    mine = f.domain("mine.example")
    f.domain("theirs.example")
    admin = f.domain_admin("dadmin", mine)
    client = client_for(admin)
    upload(
        client,
        "type,name,password\n"
        + mailbox_rows("mine.example", 1)
        + mailbox_rows("theirs.example", 1),
    )
    job = ImportJob.objects.get()
    assert job.report["error_count"] == 1
    assert job.report["errors"] == [[3, "name: theirs.example is not one of your domains."]]


def test_jobs_of_others_and_non_admins_get_404(superadmin) -> None:
    # Checked: a confirm or a cancel that reached it would change its state.
    job = ImportJob.objects.create(
        owner=superadmin, filename="x.csv", data=b"type,name\n", state=JobState.CHECKED
    )
    admin = f.domain_admin("dadmin", f.domain("mine.example"))
    other = client_for(admin)
    assert other.get(reverse("transfer:job", args=[job.pk])).status_code == 404
    assert other.post(reverse("transfer:confirm", args=[job.pk])).status_code == 404
    assert other.post(reverse("transfer:cancel", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert (job.state, bytes(job.data)) == (JobState.CHECKED, b"type,name\n")
    nobody = get_user_model().objects.create_user("nobody", password=f.PASSWORD)
    assert client_for(nobody).get(reverse("transfer:index")).status_code == 404
    index = reverse("transfer:index")
    assert Client().get(index)["Location"] == f"/accounts/login/?next={index}"
    assert client_for(admin).get(reverse("transfer:backup")).status_code == 404
    assert client_for(superadmin).get(reverse("transfer:job", args=[job.pk])).status_code == 200
    assert (
        client_for(superadmin).get(reverse("transfer:job", args=[job.pk]) + "confirm/").status_code
        == 405
    )


def test_cancel_wipes_the_file(superadmin) -> None:
    client = client_for(superadmin)
    upload(client, "type,name\ndomain,gone.example\n")
    job = ImportJob.objects.get()
    client.post(reverse("transfer:cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.data == b""
    assert client.post(reverse("transfer:confirm", args=[job.pk])).status_code == 404


def test_export_is_scoped_and_hides_hashes_from_domain_admins(superadmin) -> None:
    mine = f.domain("mine.example")
    f.mailbox("a@mine.example")
    f.domain("theirs.example")
    f.mailbox("b@theirs.example")
    admin = f.domain_admin("dadmin", mine)

    def rows(user) -> list[dict[str, str]]:
        response = client_for(user).get(reverse("transfer:export_csv"))
        assert response["Content-Type"].startswith("text/csv")
        text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
        return list(csv.DictReader(io.StringIO(text)))

    theirs = rows(admin)
    assert [r["name"] for r in theirs] == ["mine.example", "a@mine.example"]
    assert all(r["password"] == "" for r in theirs)
    everything = rows(superadmin)
    assert {r["name"] for r in everything} >= {"a@mine.example", "b@theirs.example"}
    assert all(r["password"].startswith("{") for r in everything if r["type"] == "mailbox")


@pytest.mark.django_db(transaction=True)
def test_progress_of_the_writing_phase_is_visible_to_other_sessions(monkeypatch) -> None:
    from django.db import connections

    owner = get_user_model().objects.create_superuser("boss", "b@example.net", f.PASSWORD)
    text = "type,name,password\ndomain,seen.example,\n" + mailbox_rows("seen.example", 2500)
    job = ImportJob.objects.create(owner=owner, filename="x.csv", data=text.encode(), total=2501)
    job.state = JobState.CHECKED
    job.report = {"created": {"mailbox": 2500}, "error_count": 0}
    job.save()
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 0.0)
    seen: list[tuple[str, int, int]] = []
    original = jobs.ProgressWriter.__call__

    def spy(self, phase: str, done: int, total: int) -> None:
        original(self, phase, done, total)
        if phase == "write":
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute(
                        "SELECT phase, done, total FROM transfer_importjob WHERE id = %s", [job.pk]
                    )
                    seen.append(cursor.fetchone())
                    cursor.execute("SELECT count(*) FROM mailboxes_mailbox")
                    assert cursor.fetchone()[0] == 0  # the import itself is not visible yet
            finally:
                other.close()

    monkeypatch.setattr(jobs.ProgressWriter, "__call__", spy)
    assert jobs.confirm(job)
    jobs.run_one()
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert ("write", 1000, 2500) in seen and ("write", 2000, 2500) in seen
    assert Mailbox.objects.count() == 2500


def test_a_file_with_a_broken_header_is_reported_not_a_server_error(superadmin) -> None:
    client = client_for(superadmin)
    data = SimpleUploadedFile("x.csv", b"typ\xe9,name\n", content_type="text/csv")
    response = client.post(reverse("transfer:index"), {"file": data})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.report["errors"] == [[1, "line 1 is not UTF-8 (byte 0xe9)"]]


def test_the_worker_reports_in_the_uploaders_language(superadmin, settings) -> None:
    settings.MAILADMIN_IMPORT_INLINE_ROWS = 0
    client = client_for(superadmin)
    data = SimpleUploadedFile("x.csv", b"type,name\nmailbox,broken\n", content_type="text/csv")
    client.post(reverse("transfer:index"), {"file": data}, HTTP_ACCEPT_LANGUAGE="uk")
    job = ImportJob.objects.get()
    assert job.language == "uk" and job.state == JobState.QUEUED
    jobs.run_one()
    job.refresh_from_db()
    assert "не є адресою електронної пошти" in job.report["errors"][0][1]


# --- bad characters in the file ------------------------------------------------------------------

COLUMNS_AND_ROWS = [
    ("type", "mail\x00box,n@web.example,{hash}"),
    ("name", "mailbox,n\x00@web.example,{hash}"),
    ("password", "mailbox,n@web.example,pass\x00word-long-enough"),
    ("display_name", "mailbox,n@web.example,{hash},Na\x00me"),
]


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\u202e", "\u200b"])
def test_a_control_character_in_a_cell_is_a_bad_line_naming_it(superadmin, character) -> None:
    client = client_for(superadmin)
    response = upload(
        client,
        "type,name,password,display_name\ndomain,web.example,,\n"
        f"mailbox,ok@web.example,{HASH},Fine\n"
        f"mailbox,n@web.example,{HASH},Na{character}me\n",
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == JobState.CHECKED and job.report["error_count"] == 1
    [[line, reason]] = job.report["errors"]
    assert line == 4
    assert f"U+{ord(character):04X}" in reason and "display_name" in reason
    assert character not in reason  # quoted escaped, never as itself
    page = client.get(reverse("transfer:job", args=[job.pk]))
    assert page.status_code == 200 and "Import now" not in page.content.decode()


@pytest.mark.parametrize(
    "row",
    [
        "mail\x00box,n@web.example,{hash},",
        "mailbox,n\x00@web.example,{hash},",
        "mailbox,n@web.example,pass\x00word long enough,",
        "mailbox,n@web.example,{hash}\x00,",
        'mailbox,n@web.example,{hash},"two\nlines"',
        "alias,a@web.example,,x@web.example\x00",
        "domain,other\x00.example,,",
        "aliasdomain,alias.example,,\x00",
    ],
)
def test_a_nul_in_any_column_never_breaks_the_upload(superadmin, row) -> None:
    client = client_for(superadmin)
    response = upload(
        client,
        "type,name,password,display_name\ndomain,web.example,,\n" + row.format(hash=HASH) + "\n",
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == JobState.CHECKED and job.report["error_count"] >= 1
    assert all(line == 3 for line, _reason in job.report["errors"])
    assert "\x00" not in str(job.report)


def test_a_nul_in_the_header_is_a_failed_check_not_a_server_error(superadmin) -> None:
    response = upload(client_for(superadmin), "type,na\x00me\ndomain,web.example\n")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == JobState.CHECKED and job.report["error_count"] == 1
    assert "\x00" not in str(job.report)


def test_the_stored_report_never_holds_a_nul_whatever_the_reason_quotes(
    superadmin, monkeypatch
) -> None:
    """A reason that quotes a value holding NUL (from any check, present or future) is stored
    with the character escaped: PostgreSQL refuses \\u0000 in JSON."""
    from transfer.importer import Importer, Report

    def validate(self) -> Report:
        report = Report(rows=1)
        report.error(2, "name: “a\x00b\ud800\u202e” is not an e-mail address.")
        return report

    monkeypatch.setattr(Importer, "validate", validate)
    upload(client_for(superadmin), "type,name\ndomain,web.example\n")
    job = ImportJob.objects.get()
    assert job.state == JobState.CHECKED
    assert job.report["errors"] == [[2, "name: “a\\x00b\\ud800\\u202e” is not an e-mail address."]]


def test_a_failing_check_marks_the_job_failed_and_answers_the_upload(
    superadmin, monkeypatch
) -> None:
    """Whatever goes wrong inside the check, the upload gets its page and the job its end."""
    from django.db import DataError

    def finish(*args, **kwargs) -> None:
        raise DataError("the database refused the report")

    monkeypatch.setattr(jobs, "_finish", finish)
    response = upload(client_for(superadmin), "type,name\ndomain,web.example\n")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == JobState.FAILED and job.data == b""
    assert job.report["error_count"] == 1 and "internal error" in job.report["errors"][0][1]


def test_a_refused_character_is_reported_in_the_uploaders_language(superadmin) -> None:
    client = client_for(superadmin)
    data = SimpleUploadedFile(
        "x.csv", b"type,name\ndomain,a\x00.example\n", content_type="text/csv"
    )
    client.post(reverse("transfer:index"), {"file": data}, HTTP_ACCEPT_LANGUAGE="uk")
    [[line, reason]] = ImportJob.objects.get().report["errors"]
    assert line == 2
    assert reason == "name: U+0000 (control character) не дозволено в клітинці («a\\x00.example»)"
