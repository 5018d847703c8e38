"""Settings for mailadmin, read from the environment.

Every setting that differs between machines comes from an environment variable; there are no
per-environment settings modules. With no DATABASE_URL the panel uses an embedded SQLite file.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from mailadmin import dburl

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MAILADMIN_VAR_DIR", BASE_DIR / "var"))


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
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "domains",
    "mailboxes",
    "mailadmin.contract",
    "accounts",
    "audit",
    "selfservice",
    "transfer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Client IP for audit entries written by the services.
    "audit.middleware.RequestIPMiddleware",
]

ROOT_URLCONF = "mailadmin.urls"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "domains:dashboard"
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

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("uk", "Українська")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and env_bool("HTTPS", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# --- the mail stack ----------------------------------------------------------------------------
# Where Postfix's virtual(8) and Dovecot keep mail: virtual_mailbox_base and the Dovecot homes.
MAILADMIN_MAIL_BASE = env("MAILADMIN_MAIL_BASE", "/var/vmail")
# Lowest uid/gid a mailbox may be delivered as; exported as virtual_minimum_uid. Never 0.
MAILADMIN_MIN_UID = env_int("MAILADMIN_MIN_UID", 1000)
# Scheme for every new password hash; one of mailboxes.passwords.WRITE_SCHEMES.
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
MAILADMIN_EXPORT_DIR = Path(env("MAILADMIN_EXPORT_DIR", str(VAR_DIR / "export")))

if MAILADMIN_MIN_UID < 1:
    raise ImproperlyConfigured(
        "MAILADMIN_MIN_UID must be at least 1: mail is never delivered as root"
    )
