"""A small ManageSieve client (RFC 5804) for tests: what a mail program does to keep its own
Sieve scripts on the server.

Enough of the protocol for the tests: the greeting's capabilities, AUTHENTICATE "PLAIN" with
the initial response in base64, PUTSCRIPT with a non-synchronizing literal ({N+}),
SETACTIVE, LISTSCRIPTS and LOGOUT. No STARTTLS: the tests talk to Dovecot on loopback, which
Dovecot counts as secured, so it offers PLAIN there without TLS.

A response is zero or more data lines, then OK, NO or BYE with an optional response code in
parentheses and an optional human-readable string. Strings are quoted ("...", with \\ and "
escaped) or literals ({N} or {N+}, then CRLF and N octets).
"""

from __future__ import annotations

import base64
import re
import socket
from dataclasses import dataclass, field
from types import TracebackType

_LITERAL = re.compile(rb"\{(\d+)\+?\}$")


class ManageSieveError(Exception):
    """The server answered NO or BYE (or something that is not ManageSieve)."""


@dataclass
class Response:
    status: str  # OK, NO or BYE
    code: str = ""  # the response code, e.g. "WARNINGS" or "NONEXISTENT"
    text: str = ""
    lines: list[list[str | None]] = field(default_factory=list)  # data lines, as tokens


def quoted(text: str) -> str:
    """`text` as a ManageSieve quoted string."""
    if any(ch in text for ch in "\r\n\0"):
        raise ValueError("a quoted string cannot hold CR, LF or NUL; use a literal")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(text: str) -> bytes:
    """`text` as a non-synchronizing literal: the client sends it without waiting."""
    data = text.encode("utf-8")
    return b"{%d+}\r\n" % len(data) + data


class ManageSieveClient:
    """One ManageSieve session: the greeting is read on connect, then one command at a time.

    Use as a context manager; it logs out (and closes) on exit.
    """

    def __init__(self, host: str, port: int, *, timeout: float = 30) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._file = self._sock.makefile("rb")
        greeting = self._response()
        if greeting.status != "OK":
            raise ManageSieveError(f"greeting: {greeting.status} {greeting.text}")
        self.capabilities: dict[str, str] = {}
        for tokens in greeting.lines:
            name = (tokens[0] or "").upper()
            self.capabilities[name] = (tokens[1] or "") if len(tokens) > 1 else ""

    # -- the commands -----------------------------------------------------------------------

    def authenticate_plain(self, user: str, password: str) -> Response:
        """AUTHENTICATE "PLAIN" with the initial response (authzid empty)."""
        mechanisms = self.capabilities.get("SASL", "").upper().split()
        if "PLAIN" not in mechanisms:
            raise ManageSieveError(f"the server offers no PLAIN: {self.capabilities}")
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
        return self._ok(f'AUTHENTICATE "PLAIN" {quoted(token)}'.encode())

    def putscript(self, name: str, script: str) -> Response:
        return self._ok(b"PUTSCRIPT " + quoted(name).encode() + b" " + literal(script))

    def setactive(self, name: str) -> Response:
        """Make `name` the active script; an empty name deactivates every script."""
        return self._ok(b"SETACTIVE " + quoted(name).encode())

    def listscripts(self) -> list[tuple[str, bool]]:
        """(name, active) of every script the user has."""
        response = self._ok(b"LISTSCRIPTS")
        scripts = []
        for tokens in response.lines:
            name = tokens[0] or ""
            active = len(tokens) > 1 and (tokens[1] or "").upper() == "ACTIVE"
            scripts.append((name, active))
        return scripts

    def logout(self) -> None:
        if self._sock.fileno() == -1:
            return
        try:
            self._send(b"LOGOUT")
            self._response()  # OK, or BYE
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()
        self._sock.close()

    def __enter__(self) -> ManageSieveClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.logout()

    # -- the protocol -----------------------------------------------------------------------

    def _ok(self, command: bytes) -> Response:
        self._send(command)
        response = self._response()
        if response.status != "OK":
            verb = command.split(b" ", 1)[0].decode()
            code = f" ({response.code})" if response.code else ""
            raise ManageSieveError(f"{verb}: {response.status}{code} {response.text}")
        return response

    def _send(self, command: bytes) -> None:
        self._sock.sendall(command + b"\r\n")

    def _line(self) -> bytes:
        line = self._file.readline()
        if not line.endswith(b"\r\n"):
            raise ManageSieveError(f"the connection ended in a line: {line!r}")
        return line[:-2]

    def _tokens(self) -> list[str | None]:
        """One logical line as tokens: atoms, quoted strings, literals (read in full), NIL."""
        tokens: list[str | None] = []
        line = self._line()
        while True:
            match = _LITERAL.search(line)
            if match is None:
                tokens += _split(line.decode("utf-8"))
                return tokens
            tokens += _split(line[: match.start()].decode("utf-8"))
            data = self._file.read(int(match.group(1)))
            tokens.append(data.decode("utf-8"))
            line = self._line()

    def _response(self) -> Response:
        lines: list[list[str | None]] = []
        while True:
            tokens = self._tokens()
            first = (tokens[0] or "").upper() if tokens else ""
            if first in ("OK", "NO", "BYE"):
                rest = tokens[1:]
                code = ""
                if rest and rest[0] is not None and rest[0].startswith("("):
                    code = rest.pop(0) or ""
                    code = code.strip("()")
                text = " ".join(token for token in rest if token)
                return Response(first, code, text, lines)
            lines.append(tokens)


_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(\([^)]*\))|([^\s"()]+))')


def _split(text: str) -> list[str | None]:
    """Quoted strings unquoted, response codes kept in their parentheses, atoms as they are."""
    tokens: list[str | None] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            if text[position:].strip():
                raise ManageSieveError(f"cannot read {text!r}")
            break
        position = match.end()
        quoted_text, code, atom = match.groups()
        if quoted_text is not None:
            tokens.append(re.sub(r"\\(.)", r"\1", quoted_text))
        elif code is not None:
            tokens.append(code)
        elif atom is not None:
            tokens.append(None if atom.upper() == "NIL" else atom)
    return tokens
