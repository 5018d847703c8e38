"""What every response tells the browser: the content policy, HTTPS, caching; idle sessions.

The settings that depend on the environment are read by a fresh interpreter (the settings
module is read once per process); the headers are checked on real responses.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from mailadmin.middleware import SEEN_KEY, STARTED_KEY
from selfservice.session import OWNER_SESSION_KEY
from tests import factories as f
from tests.support import fresh_settings

ROOT = Path(__file__).resolve().parent.parent
OWNER_HASH = "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"  # the mail password "password"
DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    domain = f.domain("a.example")
    f.mailbox("alice@a.example", password=None, password_hash=OWNER_HASH)
    f.alias("sales@a.example", "alice@a.example")
    return domain


@pytest.fixture
def superadmin(world):
    return get_user_model().objects.create_superuser("root", password=f.PASSWORD)


@pytest.fixture
def client_super(superadmin) -> Client:
    client = Client()
    client.force_login(superadmin)
    return client


@pytest.fixture
def client_owner(world) -> Client:
    client = Client()
    response = client.post("/me/login/", {"address": "alice@a.example", "password": "password"})
    assert response.status_code == 302
    return client


def policy_of(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


ADMIN_PAGES = [
    "/",
    "/domains/",
    "/domains/a.example/",
    "/domains/a.example/mailboxes/",
    "/domains/a.example/aliases/",
    "/trace/",
    "/transfer/",
    "/audit/",
    "/accounts/admins/",
    "/config/",
]
OWNER_PAGES = ["/me/", "/me/password/", "/me/forwarding/"]


# --- Content-Security-Policy -------------------------------------------------------------------


@pytest.mark.django_db
def test_every_response_has_the_content_security_policy(client_super, client_owner) -> None:
    responses = [client_super.get(url) for url in ADMIN_PAGES]
    responses += [client_owner.get(url) for url in OWNER_PAGES]
    responses += [
        Client().get("/accounts/login/"),
        Client().get("/me/login/"),
        client_super.get("/domains/nowhere.example/"),  # 404
        client_super.get("/domains/?q=%00"),  # the input guard's 400
        client_super.get("/domains/a.example/mailboxes/", headers={"HX-Request": "true"}),
        client_super.get("/transfer/export.csv"),
    ]
    assert {r.status_code for r in responses} == {200, 400, 404}
    for response in responses:
        policy = policy_of(response)
        for name, value in DIRECTIVES.items():
            assert policy[name] == value, (response.request["PATH_INFO"], name)
        assert "unsafe" not in response["Content-Security-Policy"]


def _template_files() -> list[Path]:
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    return sorted(p for folder in folders for p in folder.rglob("*.html"))


def test_templates_hold_no_inline_script_or_style() -> None:
    """What the policy would block: inline <script>, on*= handlers, style attributes and
    <style> elements, javascript: links, htmx's hx-on (evaluated code)."""
    assert len(_template_files()) > 30
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    attributes = re.compile(r"\s(on[a-z]+|style|hx-on[:a-z-]*)\s*=", re.IGNORECASE)
    for path in _template_files():
        text = path.read_text()
        name = path.relative_to(ROOT)
        assert not inline_script.search(text), name
        assert not attributes.search(text), (name, attributes.search(text))
        assert "<style" not in text.lower() and "javascript:" not in text.lower(), name


@pytest.mark.django_db
def test_rendered_pages_hold_no_inline_script_or_style(client_super, client_owner) -> None:
    pages = [client_super.get(url) for url in ADMIN_PAGES]
    pages += [client_owner.get(url) for url in OWNER_PAGES]
    pages.append(Client().get("/accounts/login/"))
    for response in pages:
        html = response.content.decode()
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, tag
        assert not re.search(r"\s(on[a-z]+|style)\s*=", html, re.IGNORECASE)
        # htmx would add its indicator <style> inline; base.html turns that off.
        if "htmx" in html:
            assert '"includeIndicatorStyles": false' in html


# --- security headers --------------------------------------------------------------------------


@pytest.mark.django_db
def test_security_headers_on_pages(client_super) -> None:
    for response in (client_super.get("/"), Client().get("/accounts/login/")):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def settings_with(env: dict[str, str]) -> dict[str, object]:
    """Settings as a fresh process reads them from `env` (on top of this one's)."""
    names = [
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_AGE",
        "MAILADMIN_SESSION_IDLE_SECONDS",
        "MAILADMIN_SESSION_MAX_SECONDS",
    ]
    drop = ("MAILADMIN_HTTPS", "MAILADMIN_PROXY_SSL_HEADER", "MAILADMIN_SESSION_IDLE_SECONDS")
    base = {k: v for k, v in os.environ.items() if k not in drop}
    return fresh_settings({**base, **env}, names)


def test_https_settings_come_from_the_environment() -> None:
    plain = settings_with({})
    assert plain["SECURE_SSL_REDIRECT"] is False and plain["SECURE_HSTS_SECONDS"] == 0
    assert plain["SESSION_COOKIE_SECURE"] is False and plain["SECURE_PROXY_SSL_HEADER"] is None
    assert plain["MAILADMIN_SESSION_IDLE_SECONDS"] == 1800
    assert plain["SESSION_COOKIE_AGE"] == plain["MAILADMIN_SESSION_MAX_SECONDS"]
    https = settings_with(
        {
            "MAILADMIN_HTTPS": "1",
            "MAILADMIN_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
            "MAILADMIN_SESSION_IDLE_SECONDS": "600",
        }
    )
    assert https["SECURE_SSL_REDIRECT"] is True
    assert https["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert https["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert https["SESSION_COOKIE_SECURE"] is True and https["CSRF_COOKIE_SECURE"] is True
    assert https["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert https["MAILADMIN_SESSION_IDLE_SECONDS"] == 600


HTTPS = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
}


@pytest.mark.django_db
@override_settings(**HTTPS)
def test_over_https_hsts_and_secure_cookies(superadmin) -> None:
    client = Client()
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    proxied = {"X-Forwarded-Proto": "https"}
    page = client.get("/accounts/login/", headers=proxied)
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000"
    assert client.cookies["csrftoken"]["secure"]
    login = client.post(
        "/accounts/login/",
        {"username": "root", "password": f.PASSWORD},
        headers=proxied,
    )
    assert login.status_code == 302
    assert client.cookies["sessionid"]["secure"]


# --- caching -----------------------------------------------------------------------------------


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


@pytest.mark.django_db
def test_pages_are_never_stored(client_super, client_owner) -> None:
    responses = [client_super.get(url) for url in ADMIN_PAGES]
    responses += [client_owner.get(url) for url in OWNER_PAGES]
    responses += [
        Client().get("/accounts/login/"),
        client_super.get("/domains/a.example/mailboxes/", headers={"HX-Request": "true"}),
        client_super.get("/transfer/export.csv"),
        client_super.post("/domains/a.example/toggle/"),
    ]
    for response in responses:
        assert {"no-store", "private"} <= _cache_control(response), response.request["PATH_INFO"]


@pytest.mark.django_db
@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_keep_their_caching() -> None:
    response = Client().get("/static/css/mailadmin.css")
    assert response.status_code == 200
    assert "no-store" not in _cache_control(response)
    assert "Content-Security-Policy" in response  # harmless on a stylesheet, and uniform


# --- idle sessions -----------------------------------------------------------------------------


def _age(client: Client, *, seen: int | None = None, started: int | None = None) -> None:
    """Make the client's session look `seen` / `started` seconds ago."""
    session = client.session
    now = int(time.time())
    if seen is not None:
        session[SEEN_KEY] = now - seen
    if started is not None:
        session[STARTED_KEY] = now - started
    session.save()


@pytest.fixture
def admin_logged_in(superadmin) -> Client:
    """Logged in through the login page, as a browser is (the login writes the stamps)."""
    client = Client()
    response = client.post("/accounts/login/", {"username": "root", "password": f.PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.django_db
@override_settings(MAILADMIN_SESSION_IDLE_SECONDS=1800, MAILADMIN_SESSION_MAX_SECONDS=43200)
def test_an_admin_idle_too_long_is_logged_out(admin_logged_in) -> None:
    client = admin_logged_in
    assert time.time() - client.session[SEEN_KEY] < 5  # stamped by the login
    assert client.get("/").status_code == 200
    _age(client, seen=1700)
    assert client.get("/").status_code == 200  # active within the limit: stays
    assert time.time() - client.session[SEEN_KEY] < 5  # and the activity is recorded
    _age(client, seen=1801)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/"
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # and it stays logged out


@pytest.mark.django_db
@override_settings(MAILADMIN_SESSION_IDLE_SECONDS=1800, MAILADMIN_SESSION_MAX_SECONDS=43200)
def test_a_session_ends_at_its_absolute_lifetime_even_when_active(admin_logged_in) -> None:
    client = admin_logged_in
    assert time.time() - client.session[STARTED_KEY] < 5
    _age(client, seen=10, started=43100)
    assert client.get("/").status_code == 200
    _age(client, seen=10, started=43201)
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_a_page_view_costs_no_session_write(admin_logged_in) -> None:
    """Within a minute of the last write, a request only reads the session (the pinned query
    counts of the list pages hold)."""
    with CaptureQueriesContext(connection) as queries:
        assert admin_logged_in.get("/").status_code == 200
    session_sql = [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
    assert session_sql and all(sql.lstrip().startswith("SELECT") for sql in session_sql)


@pytest.mark.django_db
@override_settings(MAILADMIN_SESSION_IDLE_SECONDS=600, MAILADMIN_SESSION_MAX_SECONDS=43200)
def test_an_owner_idle_too_long_is_logged_out(client_owner) -> None:
    assert client_owner.get("/me/").status_code == 200
    _age(client_owner, seen=590)
    assert client_owner.get("/me/").status_code == 200
    _age(client_owner, seen=601)
    response = client_owner.get("/me/")
    assert response.status_code == 302 and response["Location"] == "/me/login/"
    assert OWNER_SESSION_KEY not in client_owner.session


@pytest.mark.django_db
def test_anonymous_visits_create_no_session(world) -> None:
    client = Client()
    client.get("/accounts/login/")
    client.get("/me/login/")
    assert "sessionid" not in client.cookies
