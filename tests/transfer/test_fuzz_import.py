"""Fuzzing the import: whatever a CSV file holds, nothing breaks and nothing invalid is stored.

Files are built from rows that are nearly right (so that most of them reach the deep checks)
with cells bent by control characters, odd digits (`²`, `٣`), fullwidth forms and the syntax
characters of Dovecot and Postfix, in every column. Each file goes through the web upload
(check, then confirm when clean) or through the worker's step (jobs.run_one), as a superadmin
or as a domain admin. After each file:

- no request gave a 500 and the worker's step never raised; the job is in a final state, and
  its report holds no NUL and no internal error (a bad cell is a bad row, not a crash);
- every stored Domain, AliasDomain, Mailbox, Alias and destination passes full_clean(), no
  stored text holds a character mailadmin.text refuses, and no mailbox path holds `:`, `%`,
  whitespace, a control character, `..` or a leading `/` (Dovecot would read it as options);
- rows that were there before are unchanged (an import only creates);
- a domain admin created nothing outside their domains and set no uid or gid.

Each example runs in a savepoint rolled back at its end, so every file meets the same data.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from domains.models import AliasDomain, Domain
from mailadmin.text import unsafe_character
from mailboxes.models import Alias, AliasDestination, Mailbox
from tests import factories as f
from transfer import jobs
from transfer.csvformat import COLUMNS
from transfer.models import ImportJob, JobState

pytestmark = pytest.mark.django_db

HASH = "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"
MINE, THEIRS = "mine.test", "theirs.test"
STORED = (Domain, AliasDomain, Mailbox, Alias, AliasDestination)
FINAL = {JobState.CHECKED, JobState.FAILED, JobState.DONE}

# What gets into cells: controls, invisible and line-breaking characters, odd digits,
# fullwidth forms, and what Dovecot, Postfix, shells and CSV give a meaning to.
ODD = [
    "\x00",
    "\x01",
    "\x1b",
    "\x7f",
    "\x85",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\u2028",
    "\n",
    "\r",
    "\t",
    "²",
    "٣",
    "\uff21",  # FULLWIDTH LATIN CAPITAL LETTER A
    "\uff11",  # FULLWIDTH DIGIT ONE
    "\uff0e",  # FULLWIDTH FULL STOP
    "\uff20",  # FULLWIDTH COMMERCIAL AT
    ":",
    "%",
    "%u",
    "=",
    ",",
    ";",
    "/",
    "..",
    "~",
    " ",
    "$",
    "*",
    "?",
    "'",
    '"',
    "\\",
    "@",
    "{",
    "}",
]

LOCALS = ["u1", "u1", "u3", "bob", "team", ""]
# Weighted by repetition: most rows aim at the domain admin's own domain.
DOMAINS = [MINE, MINE, MINE, THEIRS, "new.test", "other.test"]


def _often(usual: str, *others: str) -> st.SearchStrategy[str]:
    return st.sampled_from([usual, usual, usual, *others])


@st.composite
def nearly_right_row(draw: st.DrawFn) -> dict[str, str]:
    """A row of one kind with plausible cells, right more often than not."""
    kind = draw(st.sampled_from(["mailbox", "mailbox", "alias", "domain", "aliasdomain"]))
    local = draw(st.sampled_from(LOCALS))
    domain = draw(st.sampled_from(DOMAINS))
    row = {"type": kind}
    if kind == "domain":
        row["name"] = draw(st.sampled_from(["new.test", "other.test", MINE, "x.test"]))
        row["delivery"] = draw(st.sampled_from(["", "hosted", "relay", "backup"]))
        row["transport"] = draw(st.sampled_from(["", "smtp:[mx.example.net]:25", "lmtp:unix:x"]))
        for column in ("max_mailboxes", "max_aliases"):
            row[column] = draw(_often("", "0", "10", "٣", "²", "-1"))
        for column in ("max_quota", "total_quota"):
            row[column] = draw(_often("", "0", "1G", "10G", "٣G", "1e3"))
        for column in ("uid", "gid"):
            row[column] = draw(_often("", "5000", "٣٠٠٠", "²", "0"))
    elif kind == "aliasdomain":
        row["name"] = draw(st.sampled_from(["alias.test", "alias2.test", MINE]))
        row["target"] = draw(st.sampled_from([MINE, THEIRS, "new.test"]))
    elif kind == "mailbox":
        row["name"] = f"{local or 'u1'}@{domain}"
        row["password"] = draw(_often(HASH, "a clear password", "{NOPE}x", ""))
        row["quota"] = draw(_often("", "1G", "100M", "0", "٣M", "²G", "\uff11G"))
        row["format"] = draw(_often("", "maildir", "mbox"))
        row["maildir"] = draw(
            st.sampled_from(
                [
                    "",
                    "",
                    f"{domain}/{local or 'u1'}/",
                    f"{MINE}/spy:INBOX=/var/vmail/{THEIRS}/bob/",
                    f"{MINE}/spy/:INDEX=/tmp/x",
                    f"{THEIRS}/bob/",
                    f"{MINE}/../{THEIRS}/bob/",
                    f"{MINE}/%u/",
                    f"{MINE}/~bob/",
                    f"/var/vmail/{MINE}/x/",
                    f"{MINE}/a b/",
                    f"{MINE}//x/",
                    f"{MINE}/x/y/",
                ]
            )
        )
        row["uid"] = draw(_often("", "5000", "0", "٣٠٠٠", "²"))
        row["gid"] = draw(_often("", "5000", "1", "٣٠٠٠"))
    else:
        row["name"] = f"{local}@{domain}"
        row["destinations"] = draw(
            st.sampled_from(
                [
                    f"u1@{MINE}",
                    f"u1@{MINE} bob@{THEIRS}",
                    f"u1@{MINE};ext@example.net",
                    "x@y..z",
                    f"{local}@{domain}",
                ]
            )
        )
    row["display_name"] = draw(_often("", "Name", "Dana Ødegård"))
    row["active"] = draw(_often("", "yes", "no", "maybe"))
    return row


@st.composite
def bent(draw: st.DrawFn, value: str) -> str:
    """`value` with an odd piece put in, or replaced by odd pieces."""
    if draw(st.booleans()):
        at = draw(st.integers(min_value=0, max_value=len(value)))
        return value[:at] + draw(st.sampled_from(ODD)) + value[at:]
    return "".join(draw(st.lists(st.sampled_from([*ODD, "a", "1", "."]), max_size=6)))


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A header and one to three rows, each with up to two of its cells bent."""
    rows = draw(st.lists(nearly_right_row(), min_size=1, max_size=3))
    out = io.StringIO()
    raw = draw(st.booleans()) and draw(st.booleans())  # now and then no quoting at all
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        # Half the rows are left as they are, so that whole files get through to the write.
        how_many = draw(st.sampled_from([0, 0, 1, 2]))
        odd_columns = draw(st.lists(st.sampled_from(COLUMNS), min_size=how_many, max_size=how_many))
        cells = [
            draw(bent(row.get(column, ""))) if column in odd_columns else row.get(column, "")
            for column in COLUMNS
        ]
        if raw:
            out.write(",".join(cells) + "\n")
        else:
            writer.writerow(cells)
    return out.getvalue().encode()


# --- what must hold after every file -----------------------------------------------------------


def snapshot() -> dict[tuple[str, int], tuple[Any, ...]]:
    return {
        (model.__name__, row["id"]): tuple(sorted(row.items()))
        for model in STORED
        for row in model.objects.values()
    }


def _text_fields(model: type[models.Model]) -> list[str]:
    return [
        field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
    ]


def check_stored_rows() -> None:
    for model in STORED:
        texts = _text_fields(model)
        for obj in model.objects.all():
            obj.full_clean()
            for name in texts:
                value = getattr(obj, name)
                if value is None:  # a NULL column (Domain.unicode_key of an ASCII name)
                    continue
                assert unsafe_character(value) is None, (model.__name__, name, value)
    for path in Mailbox.objects.values_list("path", flat=True):
        assert not any(ch in path for ch in ":%"), path
        assert not any(ch.isspace() for ch in path), path
        assert unsafe_character(path) is None, path
        assert ".." not in path and not path.startswith("/"), path


def check_scope(before: dict[tuple[str, int], tuple[Any, ...]], admin_domains: set[int]) -> None:
    new: dict[str, list[int]] = {}
    for kind, pk in snapshot().keys() - before.keys():
        new.setdefault(kind, []).append(pk)
    assert not new.get("Domain"), "a domain admin created a domain"
    for alias_domain in AliasDomain.objects.filter(pk__in=new.get("AliasDomain", [])):
        assert alias_domain.target_id in admin_domains, alias_domain.name
    for mailbox in Mailbox.objects.filter(pk__in=new.get("Mailbox", [])):
        assert mailbox.domain_id in admin_domains, mailbox.address
        assert mailbox.uid is None and mailbox.gid is None, (mailbox.address, mailbox.uid)
    for alias in Alias.objects.filter(pk__in=new.get("Alias", [])):
        assert alias.domain_id in admin_domains, alias.address


def check_job(job: ImportJob, allowed: set[str]) -> None:
    job.refresh_from_db()
    event(f"job {job.state}")  # shown by pytest --hypothesis-show-statistics
    assert job.state in allowed, job.state
    text = json.dumps(job.report, ensure_ascii=False)
    assert "\x00" not in text
    assert "internal error" not in text, job.report


# --- the two paths ----------------------------------------------------------------------------


def through_the_web(client: Client, data: bytes) -> None:
    """Small files: checked inside the upload's request, imported inside the confirmation's."""
    upload = SimpleUploadedFile("fuzz.csv", data, content_type="text/csv")
    response = client.post(reverse("transfer:index"), {"file": upload})
    assert response.status_code in (200, 302)  # a form error, or the job's page
    job = ImportJob.objects.order_by("-pk").first()
    if response.status_code == 200:
        assert job is None  # the form refused the file: no job
        return
    assert job is not None
    assert response["Location"] == reverse("transfer:job", args=[job.pk])
    check_job(job, {JobState.CHECKED, JobState.FAILED})
    assert client.get(reverse("transfer:job", args=[job.pk])).status_code == 200
    if job.state == JobState.CHECKED and job.report.get("error_count") == 0:
        response = client.post(reverse("transfer:confirm", args=[job.pk]))
        assert response.status_code == 302
        assert response["Location"] == reverse("transfer:job", args=[job.pk])
        check_job(job, {JobState.DONE, JobState.FAILED})
        assert client.get(reverse("transfer:job", args=[job.pk])).status_code == 200


def through_the_worker(user: Any, data: bytes) -> None:
    job = ImportJob.objects.create(owner=user, filename="fuzz.csv", data=data, total=10_000)
    assert jobs.run_one() is not None  # never raises
    check_job(job, {JobState.CHECKED, JobState.FAILED})
    if job.state == JobState.CHECKED and job.report.get("error_count") == 0:
        assert jobs.confirm(job)
        assert jobs.run_one() is not None
        check_job(job, {JobState.DONE, JobState.FAILED})
    assert jobs.run_one() is None


@pytest.fixture
def tenants(settings) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Clear passwords are hashed on import: the quickest scheme mailadmin writes.
    settings.MAILADMIN_PASSWORD_SCHEME = "SHA512-CRYPT"
    mine = f.domain(MINE)
    f.domain(THEIRS)
    f.mailbox(f"bob@{THEIRS}", password=None, password_hash=HASH)
    f.mailbox(f"u2@{MINE}", password=None, password_hash=HASH)
    f.alias(f"team@{THEIRS}", f"bob@{THEIRS}")
    superadmin = get_user_model().objects.create_superuser("root", password=f.PASSWORD)
    admin = f.domain_admin("dadmin", mine)
    clients = {}
    for name, user in (("superadmin", superadmin), ("domain admin", admin)):
        client = Client()
        client.force_login(user)
        clients[name] = client
    return {
        "users": {"superadmin": superadmin, "domain admin": admin},
        "clients": clients,
        "admin_domains": {mine.pk},
    }


def _file(*rows: str) -> bytes:
    return (",".join(COLUMNS) + "\n" + "".join(row + "\n" for row in rows)).encode()


def _mailbox(name: str, *, maildir: str = "", uid: str = "", gid: str = "") -> str:
    cells = {"type": "mailbox", "name": name, "password": HASH, "maildir": maildir, "uid": uid}
    cells["gid"] = gid
    return ",".join(cells.get(column, "") for column in COLUMNS)


# The cross-tenant hole: a domain admin's maildir that Dovecot reads as "INBOX is bob's mail".
SPY = _file(_mailbox(f"spy@{MINE}", maildir=f"{MINE}/spy:INBOX=/var/vmail/{THEIRS}/bob/"))
# A domain admin choosing whose files their mailbox's mail is (the files of another tenant).
OWNER = _file(_mailbox(f"u3@{MINE}", uid="5000", gid="5000"))
# "²" is a digit to str.isdigit() but not to int().
SUPERSCRIPT = _file(_mailbox(f"u3@{MINE}", uid="²"))


@example(data=SPY, persona="domain admin", path="web")
@example(data=OWNER, persona="domain admin", path="worker")
@example(data=SUPERSCRIPT, persona="superadmin", path="web")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=csv_files(),
    persona=st.sampled_from(["superadmin", "domain admin"]),
    path=st.sampled_from(["web", "worker"]),
)
def test_no_file_breaks_the_import_or_stores_anything_invalid(
    tenants, caplog, data: bytes, persona: str, path: str
) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR), transaction.atomic():
        before = snapshot()
        if path == "web":
            through_the_web(tenants["clients"][persona], data)
        else:
            through_the_worker(tenants["users"][persona], data)
        check_stored_rows()
        after = snapshot()
        assert {key: after[key] for key in before} == before, "an import changed a row"
        if persona == "domain admin":
            check_scope(before, tenants["admin_domains"])
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, errors
        transaction.set_rollback(True)
