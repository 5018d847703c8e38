"""doveadm's HTTP API (Dovecot 2.3), for the reads the panel needs from the mail host, whose
homes it cannot open: it may run on another machine, and never as a mail uid.

One POST of `[[command, parameters, tag]]` (JSON) to MAILADMIN_DOVEADM_URL + /doveadm/v1 with
`Authorization: X-Dovecot-API base64(key)`; Dovecot answers `[["doveadmResponse", rows, tag]]`
or `[["error", {"type": "exitCode", "exitCode": N}, tag]]` (EX_NOUSER 67, EX_TEMPFAIL 75).

The key is worth every mailbox (doveadm may read, move and delete mail), so it travels in the
request header only: no exception, log line or page names it, and a URL with a user or
password in it is refused. http.client, not urllib.request: urllib sends every request with
`Connection: close`, to which Dovecot 2.3.19 answers a refused key with nothing at all (the
page would wait out the timeout instead of saying "wrong key"); and urllib would hand the
header to the environment's http_proxy and on to wherever a redirect points.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import ssl
import urllib.parse
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

logger = logging.getLogger("mailadmin.doveadm")

# A page waits at most this long for Dovecot (per connect and per read) before it says that
# Dovecot could not be asked.
TIMEOUT_SECONDS = 3.0
# Dovecot's answers are small (one row per script); anything larger is not an answer.
MAX_RESPONSE_BYTES = 1024 * 1024
TAG = "mailadmin"
EX_NOUSER = 67


class DoveadmError(Exception):
    """Dovecot could not be asked, or answered with an error. `reason` is plain text for
    admins and the log (never the key); `exit_code` is doveadm's, when it ran the command."""

    def __init__(self, reason: str, *, exit_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.exit_code = exit_code


class NotConfigured(DoveadmError):
    """MAILADMIN_DOVEADM_URL or the API key is empty: the panel is not set up to ask."""


def is_configured() -> bool:
    return bool(settings.MAILADMIN_DOVEADM_URL and settings.MAILADMIN_DOVEADM_API_KEY)


@dataclass(frozen=True)
class Endpoint:
    https: bool
    host: str
    port: int | None
    path: str


def endpoint(url: str) -> Endpoint:
    """The API under the listener's base URL; a URL that cannot be one is refused."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotConfigured("MAILADMIN_DOVEADM_URL must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise NotConfigured("MAILADMIN_DOVEADM_URL must not carry a user or a password")
    if parts.query or parts.fragment:
        raise NotConfigured("MAILADMIN_DOVEADM_URL must not have a query or a fragment")
    try:
        port = parts.port
    except ValueError:
        raise NotConfigured("MAILADMIN_DOVEADM_URL has a port that is not a number") from None
    path = parts.path.rstrip("/") + "/doveadm/v1"
    return Endpoint(parts.scheme == "https", parts.hostname, port, path)


@sensitive_variables("key", "headers")
def run(command: str, parameters: dict[str, str]) -> list[dict[str, Any]]:
    """Run one doveadm command (its HTTP name, e.g. "sieveList") and return its rows.

    Raises NotConfigured, or DoveadmError when Dovecot cannot be reached or says no.
    """
    url, key = settings.MAILADMIN_DOVEADM_URL, settings.MAILADMIN_DOVEADM_API_KEY
    if not url or not key:
        raise NotConfigured("MAILADMIN_DOVEADM_URL or MAILADMIN_DOVEADM_API_KEY is not set")
    where = endpoint(url)
    headers = {
        "Authorization": "X-Dovecot-API " + base64.b64encode(key.encode()).decode("ascii"),
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    body = json.dumps([[command, parameters, TAG]]).encode()
    connection: http.client.HTTPConnection
    if where.https:
        # The system's CAs (or SSL_CERT_FILE), the host name checked against the certificate.
        context = ssl.create_default_context()
        connection = http.client.HTTPSConnection(
            where.host, where.port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        connection = http.client.HTTPConnection(where.host, where.port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("POST", where.path, body=body, headers=headers)
        response = connection.getresponse()
        status, raw = response.status, response.read(MAX_RESPONSE_BYTES + 1)
    except TimeoutError:
        raise _failed(command, f"Dovecot did not answer within {TIMEOUT_SECONDS:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise _failed(command, f"cannot reach Dovecot: {_plain(exc)}") from None
    finally:
        connection.close()
    if status != 200:
        raise _failed(command, _http_reason(status))
    if len(raw) > MAX_RESPONSE_BYTES:
        raise _failed(command, "the answer is larger than any the panel asks for")
    return _rows(command, raw)


def _http_reason(code: int) -> str:
    if code == 401:
        return "Dovecot refused the API key (HTTP 401): MAILADMIN_DOVEADM_API_KEY differs"
    if code == 404:
        return "no doveadm HTTP API at MAILADMIN_DOVEADM_URL (HTTP 404)"
    return f"Dovecot answered HTTP {code}"


def _plain(reason: object) -> str:
    """An OS or TLS error as its words alone ("Connection refused")."""
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _failed(command: str, reason: str, exit_code: int | None = None) -> DoveadmError:
    logger.warning("doveadm %s: %s", command, reason)
    return DoveadmError(reason, exit_code=exit_code)


def _rows(command: str, raw: bytes) -> list[dict[str, Any]]:
    """The rows of Dovecot's one answer, or the error it reports."""
    try:
        answer = json.loads(raw)
        kind, payload, tag = answer[0]
    except (ValueError, TypeError, IndexError, KeyError):
        raise _failed(command, "Dovecot's answer is not a doveadm response") from None
    if tag != TAG:
        raise _failed(command, "Dovecot's answer is for another request")
    rows = payload if kind == "doveadmResponse" and isinstance(payload, list) else None
    if rows is not None and all(isinstance(row, dict) for row in rows):
        return rows
    if kind == "error" and isinstance(payload, dict):
        code = payload.get("exitCode")
        if isinstance(code, int):
            if code == EX_NOUSER:
                reason = f"doveadm exit code {code}: Dovecot does not know this user"
            else:
                reason = f"doveadm exit code {code}"
            raise _failed(command, reason, code)
        raise _failed(command, f"doveadm error: {payload.get('type', 'unknown')}")
    raise _failed(command, "Dovecot's answer is not a doveadm response")
