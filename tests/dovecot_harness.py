"""A private Dovecot for tests, and the `doveadm pw` judge of password hashes.

`PrivateDovecot` runs the real Dovecot 2.3 master in the foreground as a child of the test, with
its own configuration file, base_dir (sockets, pid file), state_dir and log file under a
temporary folder, so it never touches /etc/dovecot, /run/dovecot or a system instance, and
several can run side by side. The configuration is a minimal `dovecot.conf` that includes the
files `export_maps` wrote (auth-mailadmin.conf.ext, which names dovecot-sql.conf.ext), so what
authenticates here is exactly what an operator installs.

By default no network service is started: `doveadm auth test` and `doveadm user` talk to the
auth sockets in base_dir. With `imap_port`, IMAP listens on that loopback port without TLS for
end-to-end tests (mail processes then run as the userdb uid/gid: the mail base must be
reachable by them, which a pytest tmp_path under /tmp/pytest-of-root, mode 0700, is not).
With `lmtp_socket`, start() also waits for that LMTP socket, which the included
delivery-mailadmin.conf.ext (the exported delivery settings) opens for a Postfix instance whose
queue directory holds it (tests/postfix_harness.py).

base_dir is not under `root` but a fresh short folder in the system temp dir, mode 0755:
unix socket paths are limited to 107 bytes, and processes running as a mail uid must reach the
sockets in it. stop() removes it.

Passwords go to doveadm on stdin, never in argv (argv is visible to every local user). Two
quirks of doveadm 2.3 when stdin is not a terminal, both handled here:
- it reads a password up to the first newline or carriage return;
- `doveadm pw -s` asks twice ("Retype new password"): given one line only, the first attempt
  fails with "Passwords don't match!" and the second compares two empty strings, so it prints
  the hash of the EMPTY password and exits 0. `doveadm_pw_hash` feeds the password twice.
`doveadm auth test USER` and `doveadm pw -t HASH` ask once.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pytest

from tests.support import require_tool


def _stdin_secret(password: str) -> bytes:
    if any(ch in password for ch in "\r\n\0"):
        raise ValueError("doveadm reads a password up to CR/LF and cannot take NUL")
    return password.encode("utf-8") + b"\n"


def doveadm_pw_verify(stored: str, password: str) -> bool:
    """Whether the real `doveadm pw -t` accepts `password` for the `{SCHEME}hash` `stored`."""
    doveadm = require_tool("doveadm")
    result = subprocess.run(
        [doveadm, "-O", "pw", "-t", stored],
        input=_stdin_secret(password),
        capture_output=True,
        timeout=60,
    )
    verified = result.returncode == 0 and b"(verified)" in result.stdout
    if not verified and b"mismatch" not in result.stderr.lower():
        # Anything but a clean "Password mismatch" (unknown scheme, bad hash) is a test bug.
        raise AssertionError(
            f"doveadm pw -t {stored!r} failed ({result.returncode}): "
            f"{result.stdout.decode(errors='replace')}{result.stderr.decode(errors='replace')}"
        )
    return verified


def doveadm_pw_hash(scheme: str, password: str, *, rounds: int | None = None) -> str:
    """A `{SCHEME}hash` of `password` made by the real `doveadm pw -s SCHEME`."""
    doveadm = require_tool("doveadm")
    args = [doveadm, "-O", "pw", "-s", scheme]
    if rounds is not None:
        args += ["-r", str(rounds)]
    line = _stdin_secret(password)
    result = subprocess.run(args, input=line + line, capture_output=True, timeout=60)
    if result.returncode != 0 or result.stderr.strip():
        raise AssertionError(
            f"doveadm pw -s {scheme} failed ({result.returncode}): "
            f"{result.stderr.decode(errors='replace')}"
        )
    return result.stdout.decode("ascii").strip()


def free_loopback_port() -> int:
    """An unprivileged TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    returncode: int
    output: str
    fields: dict[str, str] = field(default_factory=dict)


class DovecotError(RuntimeError):
    pass


class PrivateDovecot:
    """One Dovecot master with its own config, sockets, state and log under `root`.

    Use as a context manager, or call start() and stop() (stop is safe to call twice)::

        with PrivateDovecot(tmp_path / "dovecot", includes=[out / "dovecot/auth-...ext"]) as d:
            assert d.auth_test("john@example.com", "secret").ok
    """

    def __init__(
        self,
        root: Path,
        *,
        includes: Iterable[Path] = (),
        config: str = "",
        imap_port: int | None = None,
        lmtp_socket: Path | None = None,
        auth_debug: bool = False,
    ) -> None:
        self.root = Path(root)
        self.includes = [Path(p) for p in includes]
        self.extra_config = config
        self.imap_port = imap_port
        self.lmtp_socket = Path(lmtp_socket) if lmtp_socket is not None else None
        self.auth_debug = auth_debug
        self.conf = self.root / "dovecot.conf"
        self.state_dir = self.root / "state"
        self.log_path = self.root / "dovecot.log"
        self.base_dir = Path()  # made by start()
        self._process: subprocess.Popen[bytes] | None = None
        self._dovecot = ""
        self._doveadm = ""

    # -- life cycle -------------------------------------------------------------------------

    def config_text(self) -> str:
        lines = [
            "# Private test instance written by tests/dovecot_harness.py",
            f"base_dir = {self.base_dir}",
            f"state_dir = {self.state_dir}",
            f"instance_name = {self.base_dir.name}",
            f"log_path = {self.log_path}",
            f"info_log_path = {self.log_path}",
            f"debug_log_path = {self.log_path}",
            "ssl = no",
            "listen = 127.0.0.1",
            # Loopback clients count as secured: plaintext LOGIN over 127.0.0.1 is allowed.
            "auth_mechanisms = plain login",
            # Why a login failed, in the log (never the password itself).
            "auth_verbose = yes",
            # A test makes many failed logins on purpose: answer them at once rather than
            # after the 2 s anti-guessing delay (auth_test also asks for no anvil penalty).
            "auth_failure_delay = 0",
        ]
        if self.auth_debug:
            lines.append("auth_debug = yes")
        # LMTP and ManageSieve come with the exported delivery settings, when included.
        lines.append("protocols = imap" if self.imap_port is not None else "protocols =")
        if self.imap_port is not None:
            lines += [
                "service imap-login {",
                "  inet_listener imap {",
                "    address = 127.0.0.1",
                f"    port = {self.imap_port}",
                "  }",
                "  inet_listener imaps {",
                "    port = 0",
                "  }",
                "}",
            ]
        lines += [f"!include {path}" for path in self.includes]
        if self.extra_config:
            lines.append(self.extra_config)
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 20.0) -> PrivateDovecot:
        if self._process is not None:
            raise DovecotError("already started")
        self._dovecot = require_tool("dovecot")
        self._doveadm = require_tool("doveadm")
        if os.geteuid() != 0:
            pytest.skip("the private Dovecot runs as root (it drops privileges itself)")
        self.root.mkdir(parents=True, exist_ok=True)
        self.state_dir.mkdir(exist_ok=True)
        self.base_dir = Path(tempfile.mkdtemp(prefix="mailadmin-dovecot-"))
        self.base_dir.chmod(0o755)
        self.conf.write_text(self.config_text(), encoding="utf-8")
        check = subprocess.run(
            [self._dovecot, "-c", str(self.conf), "-n"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check.returncode != 0:
            self._remove_base_dir()
            raise DovecotError(f"the test configuration is invalid:\n{check.stderr}")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self._dovecot, "-F", "-c", str(self.conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        ready = [self.base_dir / "auth-client", self.base_dir / "auth-userdb"]
        if self.imap_port is not None:
            ready.append(self.base_dir / "login" / "imap")
        if self.lmtp_socket is not None:
            ready.append(self.lmtp_socket)
        deadline = time.monotonic() + timeout
        while not all(path.exists() for path in ready):
            if self._process.poll() is not None or time.monotonic() > deadline:
                log_text = self.log()
                self.stop()
                raise DovecotError(f"Dovecot did not start; its log:\n{log_text}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # The master ends its children (auth, auth-worker, imap...) on SIGTERM.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        self._remove_base_dir()

    def _remove_base_dir(self) -> None:
        if self.base_dir != Path() and self.base_dir.is_dir():
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PrivateDovecot:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_problems(self) -> list[str]:
        """Log lines at level Warning or worse (a failed login is only Info)."""
        levels = (" Warning: ", " Error: ", " Fatal: ", " Panic: ")
        return [line for line in self.log().splitlines() if any(lv in line for lv in levels)]

    # -- doveadm ----------------------------------------------------------------------------

    def doveadm(
        self, *args: str, stdin: bytes | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run `doveadm -c CONF ARGS` against this instance (never put a password in ARGS)."""
        if not self.running:
            raise DovecotError("the private Dovecot is not running")
        result = subprocess.run(
            [self._doveadm, "-c", str(self.conf), *args],
            input=stdin,
            capture_output=True,
            timeout=timeout,
        )
        return subprocess.CompletedProcess(
            result.args,
            result.returncode,
            result.stdout.decode("utf-8", errors="replace"),
            result.stderr.decode("utf-8", errors="replace"),
        )

    def auth_test(self, user: str, password: str, *, penalty: bool = False) -> AuthResult:
        """`doveadm auth test USER` (passdb only) with the password fed on stdin.

        Without `penalty`, the request carries no-penalty: Dovecot's anvil would otherwise slow
        every login after a failed one (2, 4, 8, 15 s), which tests of wrong passwords cause.
        """
        info = [] if penalty else ["-x", "no-penalty"]
        result = self.doveadm("auth", "test", *info, user, stdin=_stdin_secret(password))
        output = result.stdout + result.stderr
        ok = result.returncode == 0 and "auth succeeded" in output
        return AuthResult(ok, result.returncode, output, _extra_fields(result.stdout))

    def user(self, user: str) -> dict[str, str] | None:
        """The userdb fields `doveadm user USER` shows, or None when there is no such user."""
        result = self.doveadm("-f", "tab", "user", user)
        if result.returncode == 67:  # EX_NOUSER
            return None
        if result.returncode != 0:
            raise DovecotError(
                f"doveadm user {user} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{self.log()}"
            )
        fields: dict[str, str] = {}
        for line in result.stdout.splitlines()[1:]:  # the first line is the header
            name, _, value = line.partition("\t")
            fields[name] = value
        return fields


def _extra_fields(stdout: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    in_extra = False
    for line in stdout.splitlines():
        if line.startswith("extra fields:"):
            in_extra = True
        elif in_extra and line.startswith("  "):
            name, _, value = line.strip().partition("=")
            if name:
                fields[name] = value
    return fields
