"""The mail-stack config page's data: the exporter's files for this installation, with the
read-only roles' credentials hidden unless asked for, the archive of the whole set, and the
install steps (the main.cf lines as postconf -e commands).

The role passwords are the ones `manage.py export_maps --out DIR` keeps in
DIR/.mailadmin-secrets.json; the panel reads (and, the first time, creates) that file in
MAILADMIN_EXPORT_DIR, so the page, the download and the CLI export agree.
"""

from __future__ import annotations

import io
import shlex
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from mailadmin.contract.dialects import dialect_of
from mailadmin.contract.export import role_passwords, with_header
from mailadmin.contract.files import render_all
from mailadmin.contract.roles import mysql_native_password, scram_sha_256
from mailadmin.contract.target import Target
from mailadmin.passwords import default_scheme

HIDDEN = "********"


@dataclass(frozen=True)
class ConfigFile:
    path: str
    content: str
    has_secret: bool


def export_dir() -> Path:
    return Path(settings.MAILADMIN_EXPORT_DIR)


def panel_target() -> Target:
    """The Target of the panel's own database, as `export_maps` builds it by default."""
    dialect = dialect_of(connection)
    db = settings.DATABASES["default"]
    passwords: dict[str, str] = {}
    postfix_role, dovecot_role = "mailadmin_postfix", "mailadmin_dovecot"
    if dialect != "sqlite":
        passwords = role_passwords(export_dir(), (postfix_role, dovecot_role))
    return Target(
        dialect=dialect,
        database=str(db["NAME"]),
        hosts=((db.get("HOST") or "localhost", int(db["PORT"]) if db.get("PORT") else None),),
        postfix_role=postfix_role,
        dovecot_role=dovecot_role,
        postfix_password=passwords.get(postfix_role, ""),
        dovecot_password=passwords.get(dovecot_role, ""),
        mail_base=settings.MAILADMIN_MAIL_BASE,
        min_uid=settings.MAILADMIN_MIN_UID,
        password_scheme=default_scheme(),
        recipient_delimiter=settings.MAILADMIN_RECIPIENT_DELIMITER,
        message_size_limit=settings.MAILADMIN_MESSAGE_SIZE_LIMIT,
        delivery=settings.MAILADMIN_DELIVERY,
    )


def _secrets(target: Target) -> list[str]:
    out = []
    for role, password in (
        (target.postfix_role, target.postfix_password),
        (target.dovecot_role, target.dovecot_password),
    ):
        if password:
            out += [password, scram_sha_256(password, role), mysql_native_password(password)]
    if target.doveadm_api_key:
        out.append(target.doveadm_api_key)
    # Longest first, so a hash is hidden whole even if a password were a part of it.
    return sorted(set(out), key=len, reverse=True)


def config_files(*, reveal: bool, target: Target | None = None) -> list[ConfigFile]:
    """Every exported file, as `export_maps` writes it; secrets hidden unless `reveal`."""
    target = target or panel_target()
    secrets = _secrets(target)
    files = []
    for path, body in render_all(target).items():
        content = with_header(path, body)
        has_secret = any(secret in content for secret in secrets)
        if not reveal:
            for secret in secrets:
                content = content.replace(secret, HIDDEN)
        files.append(ConfigFile(path=path, content=content, has_secret=has_secret))
    return files


def archive(target: Target | None = None) -> bytes:
    """The whole set as a .tar.gz, each file mode 0640 (the roles' SQL 0600)."""
    buffer = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for item in config_files(reveal=True, target=target):
            data = item.content.encode()
            info = tarfile.TarInfo(f"mailadmin-config/{item.path}")
            info.size = len(data)
            info.mtime = now
            info.mode = 0o600 if item.path.endswith(".sql") else 0o640
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def postconf_commands(target: Target | None = None) -> list[str]:
    """`postconf -e` for each main.cf line, quoted for the shell."""
    target = target or panel_target()
    lines = render_all(target)["postfix/main.cf.lines"].splitlines()
    return [f"postconf -e {shlex.quote(line)}" for line in lines if line.strip() and line[0] != "#"]


def install_paths(target: Target | None = None) -> dict[str, str]:
    target = target or panel_target()
    return {"postfix_dir": target.postfix_dir, "dovecot_dir": target.dovecot_dir}
