"""Settings for mailadmin, read from the environment.

Every setting that differs between machines comes from an environment variable; there are no
per-environment settings modules. With no DATABASE_URL the panel uses an embedded SQLite file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from mailadmin import dburl

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_header(name: str) -> tuple[str, str] | None:
    """`X-Forwarded-Proto: https` as Django wants it, ("HTTP_X_FORWARDED_PROTO", "https")."""
    value = env(name).strip()
    if not value:
        return None
    header, _sep, expected = value.partition(":")
    if not header.strip() or not expected.strip():
        raise ImproperlyConfigured(f"{name} must look like 'X-Forwarded-Proto: https'")
    return "HTTP_" + header.strip().upper().replace("-", "_"), expected.strip()


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = env(name, default).strip() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


# Where the panel keeps its own files: the SQLite database, the secret key, the collected
# static files and the read-only roles' passwords (each unless set otherwise below).
VAR_DIR = Path(env("MAILADMIN_VAR_DIR") or BASE_DIR / "var")


def read_secret_key() -> str:
    """SECRET_KEY from the environment, else a key file under var/ made once with mode 0600."""
    if key := env("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        import secrets

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env_bool("DEBUG")
SECRET_KEY = read_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Before django.contrib.auth, whose changepassword and createsuperuser it replaces with
    # refusals: admins are written through the accounts services only (audited).
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "domains",
    "mailboxes",
    "sieve",
    "mailadmin.contract",
    "audit",
    "selfservice",
    "transfer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mailadmin.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: every response but a static file's is "no-store".
    "mailadmin.middleware.NoStoreMiddleware",
    # A 400 for a control character in the path, the query or a form, before any view runs.
    "mailadmin.middleware.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mailadmin.middleware.SessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # An htmx request the guards send to a login page loads that page in the whole window.
    "mailadmin.htmx_redirects.HtmxLoginRedirectMiddleware",
    # Client IP for audit entries written by the services.
    "audit.middleware.RequestIPMiddleware",
]

ROOT_URLCONF = "mailadmin.urls"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "mailboxes:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
WSGI_APPLICATION = "mailadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dburl.to_django(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mailadmin.sqlite3'}"), BASE_DIR
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGES = [("en", "English"), ("uk", "Українська")]
# The pages' language when the browser asks for none of LANGUAGES, and the command line's.
LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "en", [code for code, _name in LANGUAGES])
LOCALE_PATHS = [BASE_DIR / "locale"]
# The time zone of the times on the pages; the database keeps UTC.
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- HTTPS and the browser (docs/operators.md, "Serving the panel over HTTPS") -------------------
# Served over HTTPS, directly or behind a TLS proxy: plain http is redirected, HSTS is sent and
# the session and CSRF cookies travel only over TLS.
MAILADMIN_HTTPS = env_bool("MAILADMIN_HTTPS")
SECURE_SSL_REDIRECT = MAILADMIN_HTTPS
SECURE_HSTS_SECONDS = env_int("MAILADMIN_HSTS_SECONDS", 365 * 24 * 3600) if MAILADMIN_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("MAILADMIN_HSTS_INCLUDE_SUBDOMAINS")
SESSION_COOKIE_SECURE = MAILADMIN_HTTPS
CSRF_COOKIE_SECURE = MAILADMIN_HTTPS
# The header by which a TLS-terminating proxy says "this came over https". Only for a proxy
# that sets it on every request and drops it from clients: anyone else could send it.
SECURE_PROXY_SSL_HEADER = env_header("MAILADMIN_PROXY_SSL_HEADER")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Admins' and owners' sessions end after this long without a request, and this long after the
# login whatever happens (mailadmin.middleware.SessionTimeoutMiddleware).
MAILADMIN_SESSION_IDLE_SECONDS = env_int("MAILADMIN_SESSION_IDLE_SECONDS", 1800)
MAILADMIN_SESSION_MAX_SECONDS = env_int("MAILADMIN_SESSION_MAX_SECONDS", 12 * 3600)
SESSION_COOKIE_AGE = MAILADMIN_SESSION_MAX_SECONDS
# Django's database sessions, read by one fixed SQL statement (the ORM's query per request cost
# more than the database's answer).
SESSION_ENGINE = "mailadmin.sessions"

# The root logger's level, to standard error; ERROR or above hides the failed logins that
# fail2ban matches (logger mailadmin.auth, WARNING; docs/admin-panel.md).
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# --- the mail stack ----------------------------------------------------------------------------
# Where Postfix's virtual(8) and Dovecot keep mail: virtual_mailbox_base and the Dovecot homes.
MAILADMIN_MAIL_BASE = env("MAILADMIN_MAIL_BASE", "/var/vmail")
# Lowest uid/gid a mailbox may be delivered as; exported as virtual_minimum_uid. Never 0.
MAILADMIN_MIN_UID = env_int("MAILADMIN_MIN_UID", 1000)
# Address extensions (user+tag@): Postfix's recipient_delimiter in the exported lines; empty
# means none. The exact address always wins over the address without its extension.
MAILADMIN_RECIPIENT_DELIMITER = env("MAILADMIN_RECIPIENT_DELIMITER", "+")
# Who delivers to the mailboxes (export_maps --delivery; the address trace says it): Dovecot's
# LMTP, with quota and Sieve, or Postfix's virtual(8).
MAILADMIN_DELIVERY = env_choice("MAILADMIN_DELIVERY", "lmtp", ["lmtp", "virtual"])
# The largest message Postfix accepts, in bytes (message_size_limit); 25 MiB by default.
MAILADMIN_MESSAGE_SIZE_LIMIT = env_int("MAILADMIN_MESSAGE_SIZE_LIMIT", 26214400)
# Scheme for every new password hash; one of mailadmin.passwords.WRITE_SCHEMES.
MAILADMIN_PASSWORD_SCHEME = env("MAILADMIN_PASSWORD_SCHEME", "ARGON2ID")

# Login throttling (accounts.throttle, docs/admin-panel.md): failures of one identity from one
# network before it waits; the first wait, doubled per further failure up to the cap; failures of
# an identity (or a network) after which each network waits from its first failure; and how long
# a counter is remembered after its last failure (or the end of the wait it imposed).
MAILADMIN_LOGIN_FREE_FAILURES = env_int("MAILADMIN_LOGIN_FREE_FAILURES", 5)
MAILADMIN_LOGIN_DELAY_SECONDS = env_int("MAILADMIN_LOGIN_DELAY_SECONDS", 60)
MAILADMIN_LOGIN_MAX_DELAY_SECONDS = env_int("MAILADMIN_LOGIN_MAX_DELAY_SECONDS", 900)
MAILADMIN_LOGIN_CEILING = env_int("MAILADMIN_LOGIN_CEILING", 50)
MAILADMIN_LOGIN_FORGET_SECONDS = env_int("MAILADMIN_LOGIN_FORGET_SECONDS", 86400)
# Reverse proxies whose X-Forwarded-For is believed (exact addresses, comma-separated).
MAILADMIN_TRUSTED_PROXIES = env_list("MAILADMIN_TRUSTED_PROXIES")
# Where the panel's config page keeps the read-only roles' passwords (.mailadmin-secrets.json,
# mode 0600); point `manage.py export_maps --out` at the same folder so both agree.
MAILADMIN_EXPORT_DIR = Path(env("MAILADMIN_EXPORT_DIR") or VAR_DIR / "export")


def read_doveadm_api_key() -> str:
    """MAILADMIN_DOVEADM_API_KEY from the environment, else the key `export_maps
    --doveadm-port` keeps in MAILADMIN_EXPORT_DIR/.mailadmin-secrets.json (a panel on the
    mail host, pointed at the export, needs no copy of it)."""
    if key := env("MAILADMIN_DOVEADM_API_KEY").strip():
        return key
    try:
        kept = json.loads((MAILADMIN_EXPORT_DIR / ".mailadmin-secrets.json").read_text())
        return str(kept.get("doveadm-api-key", ""))
    except (OSError, ValueError, AttributeError):
        return ""


# doveadm's HTTP API on the mail host (http://127.0.0.1:8080), which the panel asks for the
# Sieve scripts mail clients keep over ManageSieve; empty: the pages say it is not set up.
MAILADMIN_DOVEADM_URL = env("MAILADMIN_DOVEADM_URL").strip()
MAILADMIN_DOVEADM_API_KEY = read_doveadm_api_key()

# CSV import (docs/import-export.md): files of up to this many rows are checked and imported in
# the web request, larger ones by `manage.py transfer_worker`; and the largest file accepted.
MAILADMIN_IMPORT_INLINE_ROWS = env_int("MAILADMIN_IMPORT_INLINE_ROWS", 2000)
MAILADMIN_IMPORT_MAX_BYTES = env_int("MAILADMIN_IMPORT_MAX_BYTES", 64 * 1024 * 1024)

if MAILADMIN_SESSION_IDLE_SECONDS < 1 or MAILADMIN_SESSION_MAX_SECONDS < 1:
    raise ImproperlyConfigured("the session lifetimes must be at least one second")
if MAILADMIN_MIN_UID < 1:
    raise ImproperlyConfigured(
        "MAILADMIN_MIN_UID must be at least 1: mail is never delivered as root"
    )
