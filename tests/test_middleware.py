"""The request guard: a control or invisible character anywhere in a URL or a form is a 400.

NUL gives a 500 on PostgreSQL wherever it reaches a query (a search term, a keyset cursor, a
name in the path); the other characters are refused by the same rule as every form
(mailadmin/text.py), so that none of them reaches a query, a log line or a page.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from domains.models import Domain
from mailboxes.models import Alias
from tests import factories as f
from transfer.models import ImportJob

pytestmark = pytest.mark.django_db

# NUL (PostgreSQL refuses it), another C0 control, DEL, and a bidi override (Unicode Cf).
BAD = ["\x00", "\x01", "\x7f", "\u202e"]
# The mail password "password": a cheap hash, so that owners log in for real.
OWNER_HASH = "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    domain = f.domain("a.example")
    f.mailbox("alice@a.example", password=None, password_hash=OWNER_HASH)
    f.alias("sales@a.example", "alice@a.example")
    f.domain_admin("admin-a", domain)
    return domain


@pytest.fixture
def client_super(world) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", password=f.PASSWORD))
    return client


@pytest.fixture
def client_owner(world) -> Client:
    client = Client()
    response = client.post("/me/login/", {"address": "alice@a.example", "password": "password"})
    assert response.status_code == 302, response.content.decode()
    return client


def bad_query(url: str, name: str, ch: str) -> str:
    return f"{url}?{quote(name)}={quote('x' + ch + 'y')}"


# Every view that reads request.GET (grep request.GET), with the parameters it reads.
ADMIN_QUERIES = [
    ("/", "page"),
    ("/domains/", "q"),
    ("/domains/", "page"),
    ("/domains/", "sort"),
    ("/domains/a.example/mailboxes/", "q"),
    ("/domains/a.example/mailboxes/", "after"),
    ("/domains/a.example/mailboxes/", "before"),
    ("/domains/a.example/aliases/", "q"),
    ("/domains/a.example/aliases/", "after"),
    ("/domains/a.example/aliases/", "before"),
    ("/domains/a.example/aliases/new/", "catchall"),
    ("/domains/a.example/alias-domains/", "q"),
    ("/accounts/admins/", "q"),
    ("/accounts/admins/", "page"),
    ("/audit/", "actor"),
    ("/audit/", "day"),
    ("/trace/", "address"),
    ("/transfer/", "x"),
]


@pytest.mark.parametrize(("url", "name"), ADMIN_QUERIES)
def test_a_bad_character_in_a_query_value_is_a_400(client_super, url, name) -> None:
    assert client_super.get(url).status_code == 200, url
    for ch in BAD:
        response = client_super.get(bad_query(url, name, ch))
        assert response.status_code == 400, (url, name, repr(ch))


@pytest.mark.parametrize("ch", BAD)
def test_a_bad_character_in_a_query_name_is_a_400(client_super, ch) -> None:
    assert client_super.get(bad_query("/domains/", ch, "")).status_code == 400


@pytest.mark.parametrize(
    "template",
    [
        "/domains/a{c}.example/",
        "/domains/a{c}.example/edit/",
        "/domains/a{c}.example/mailboxes/",
        "/domains/a{c}.example/aliases/",
        "/domains/a.example/mailboxes/1{c}/",
        "/accounts/admins/admin{c}-a/",
        "/accounts/admins/admin-a{c}/password/",
        "/me/admin/mailboxes/alice{c}@a.example/",
        "/me/admin/domains/a{c}.example/forwarding/",
        "/static/css/mailadmin{c}.css",
    ],
)
def test_a_bad_character_in_the_path_is_a_400(client_super, template) -> None:
    for ch in BAD:
        response = client_super.get(template.format(c=quote(ch)))
        assert response.status_code == 400, (template, repr(ch))


@pytest.mark.parametrize("url", ["/me/", "/me/password/", "/me/forwarding/"])
def test_owner_pages_refuse_bad_characters(client_owner, url) -> None:
    assert client_owner.get(url).status_code == 200
    for ch in BAD:
        assert client_owner.get(bad_query(url, "q", ch)).status_code == 400, (url, repr(ch))
        assert client_owner.get(url + quote(ch) + "/").status_code == 400, (url, repr(ch))


@pytest.mark.parametrize("ch", BAD)
def test_anonymous_pages_refuse_bad_characters(world, ch) -> None:
    client = Client()
    assert client.get(bad_query("/accounts/login/", "next", ch)).status_code == 400
    assert client.get(bad_query("/me/login/", "next", ch)).status_code == 400
    response = client.post("/me/login/", {"address": f"alice{ch}@a.example", "password": "x"})
    # A control character is the guard's 400; an invisible one the login form's refusal.
    assert response.status_code == (400 if ch != "\u202e" else 200)


@pytest.mark.parametrize("ch", ["\x00", "\x01", "\x1b", "\x7f", "\x85"])
def test_a_control_character_in_a_form_field_is_a_400(client_super, ch) -> None:
    response = client_super.post("/domains/new/", {"name": f"new{ch}.example"})
    assert response.status_code == 400
    response = client_super.post("/domains/new/", {"name": "new.example", f"x{ch}": "1"})
    assert response.status_code == 400


@pytest.mark.parametrize("ch", ["\u202e", "\u200b", "\ufeff", "\u2028"])
def test_an_invisible_character_in_a_form_value_is_the_forms_to_refuse(client_super, ch) -> None:
    """A zero-width space pasted with a name gets the form's message next to the field (htmx
    drops the body of a 400); in a field's name it is a 400 like any control character."""
    response = client_super.post("/domains/new/", {"name": f"new{ch}.example"})
    assert response.status_code == 200  # the form, with its message
    assert not Domain.objects.filter(name__startswith="new").exists()
    response = client_super.post("/domains/new/", {"name": "new.example", f"x{ch}": "1"})
    assert response.status_code == 400


def test_form_fields_may_hold_line_breaks_and_tabs(client_super) -> None:
    """Textareas send CR LF (alias destinations one a line); a tab is harmless in a form."""
    response = client_super.post(
        "/domains/a.example/aliases/new/",
        {"local_part": "team", "destinations": "alice@a.example\r\n\tbob@b.example\r\n"},
    )
    assert response.status_code == 302
    team = Alias.objects.get(domain__name="a.example", local_part="team")
    assert sorted(team.destinations.values_list("address", flat=True)) == [
        "alice@a.example",
        "bob@b.example",
    ]


def test_a_password_may_hold_any_printable_character(client_super) -> None:
    response = client_super.post(
        "/accounts/password/",
        {
            # An emoji sequence holds a zero-width joiner (U+200D).
            "old_password": "wrong but printable: ' \" \\ % $ * ? ~ : = , / ² ٣ \uff21 👩\u200d💻",
            "new_password1": "x",
            "new_password2": "x",
        },
    )
    assert response.status_code == 200  # the form's own error, not the guard's 400


def test_a_nul_in_an_uploaded_file_is_the_importers_to_report(client_super) -> None:
    """File contents are not form fields: the importer reports the bad line (transfer)."""
    upload = SimpleUploadedFile(
        "nul.csv", b"type,name\ndomain,n\x00ul.example\n", content_type="text/csv"
    )
    response = client_super.post("/transfer/", {"file": upload})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.report["error_count"] == 1 and job.report["errors"][0][0] == 2
    assert "U+0000" in job.report["errors"][0][1]
