"""A private Postfix for end-to-end tests, and the runner of the operator guide's shell steps.

`PrivatePostfix` is a real Postfix 3.x instance with its own config_directory (main.cf,
master.cf), queue_directory, data_directory and log file under a fresh folder in the system
temp dir (mode 0755: the postfix user must reach it, which a pytest tmp_path under
/tmp/pytest-of-root is not). It never touches /etc/postfix's instance: every command gets
`-c CONFIG_DIR`. smtpd listens on an unprivileged 127.0.0.1 port; master.cf has no chroot, so
proxymap, virtual(8) and lmtp(8) see absolute paths as they are.

The instance only gets plumbing from the harness (`plumbing()`: directories, port, log,
no DNS in the SMTP client, the queue that holds mail for foreign domains; and the ports of
the submission services); everything about mail routing comes
from the exported main.cf.lines, master.cf.lines and *.cf tables, applied by the shell blocks of
docs/operators.md (`doc_blocks`, `run_doc_block`), so the guide and the test cannot drift.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from tests.support import ROOT, require_tool

OPERATORS_GUIDE = ROOT / "docs" / "operators.md"
_BLOCK = re.compile(r"<!--\s*harness:\s*([a-z0-9-]+)\s*-->\s*\n```sh\n(.*?)\n```", re.DOTALL)

# Services of the private instance: the stock master.cf without chroot (column 5 "n") and
# without the services it does not need (pipe-based transports, postscreen).
MASTER_CF = """\
{listen}  inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PostfixError(RuntimeError):
    pass


def doc_blocks(path: Path = OPERATORS_GUIDE) -> dict[str, str]:
    """The ```sh blocks of the guide that follow a `<!-- harness: NAME -->` marker."""
    text = path.read_text(encoding="utf-8")
    blocks: dict[str, str] = {}
    for name, body in _BLOCK.findall(text):
        if name in blocks:
            raise AssertionError(f"{path}: the harness block {name!r} appears twice")
        blocks[name] = body
    return blocks


def run_doc_block(
    name: str,
    env: Mapping[str, str],
    *,
    stdin: str | None = None,
    path: Path = OPERATORS_GUIDE,
) -> subprocess.CompletedProcess[str]:
    """Run one marked block of the guide with bash -eu -o pipefail and the given variables."""
    blocks = doc_blocks(path)
    if name not in blocks:
        raise AssertionError(f"{path} has no block marked <!-- harness: {name} -->")
    script = "set -euo pipefail\n" + blocks[name] + "\n"
    result = subprocess.run(
        ["bash", "-c", script],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=300,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"docs/operators.md block {name!r} failed ({result.returncode}):\n{script}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def wait_for(
    condition: Callable[[], bool], what: str, *, timeout: float = 30, log: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; log:\n{log()[-6000:]}")
        time.sleep(0.1)


class PrivatePostfix:
    """One Postfix instance (master and its daemons) with everything under `root`.

    create() writes the plumbing and sets the permissions (after which the queue's private/
    exists for Dovecot's sockets), start() starts it, stop() stops it and removes `root`.
    """

    def __init__(
        self,
        *,
        smtp_port: int,
        root: Path | None = None,
        submission_port: int | None = None,
        submissions_port: int | None = None,
    ) -> None:
        self.smtp_port = smtp_port
        # The submission services come from the exported master.cf.lines (the guide's
        # apply-master-cf block) on these ports; the harness only chooses them.
        self.submission_port = submission_port
        self.submissions_port = submissions_port
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="mailadmin-postfix-"))
        self.config_dir = self.root / "config"
        self.queue_dir = self.root / "queue"
        self.data_dir = self.root / "data"
        self.tables_dir = self.root / "config" / "mailadmin"
        self.maillog = self.root / "maillog"
        self._postfix = ""
        self._postconf = ""
        self._started = False

    # -- life cycle -------------------------------------------------------------------------

    def plumbing(self) -> dict[str, str]:
        """The main.cf settings of the instance itself, not of mailadmin."""
        return {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue_dir),
            "data_directory": str(self.data_dir),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "mx.mailadmin.test",
            "mydomain": "mailadmin.test",
            "myorigin": "$myhostname",
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": str(self.root),
            "smtpd_peername_lookup": "no",
            "smtpd_banner": "$myhostname ESMTP mailadmin-test",
            "smtp_tls_security_level": "none",
            "smtp_dns_support_level": "disabled",
            # Mail for foreign domains stays in the queue (status "deferred transport"), so a
            # test can see that it was accepted for relay without any network.
            "defer_transports": "smtp",
            "delay_warning_time": "0",
        }

    def create(self) -> PrivatePostfix:
        self._postfix = require_tool("postfix")
        self._postconf = require_tool("postconf")
        if os.geteuid() != 0:
            pytest.skip("the private Postfix runs as root (its daemons drop privileges)")
        self.root.chmod(0o755)
        self.config_dir.mkdir(parents=True)
        self.tables_dir.mkdir()
        # postfix(1) chdirs into the queue before anything; set-permissions fills it.
        self.queue_dir.mkdir(mode=0o755)
        (self.config_dir / "main.cf").write_text(
            "# Private test instance written by tests/postfix_harness.py\n"
            + "".join(f"{k} = {v}\n" for k, v in self.plumbing().items()),
            encoding="utf-8",
        )
        (self.config_dir / "master.cf").write_text(
            MASTER_CF.format(listen=f"127.0.0.1:{self.smtp_port}"), encoding="utf-8"
        )
        self.maillog.touch()
        self.postfix("set-permissions")
        self.postfix("check")
        return self

    def start(self, timeout: float = 30) -> PrivatePostfix:
        self.postfix("check")
        self.postfix("start")
        self._started = True
        wait_for(self._accepts_smtp, "Postfix's smtpd", timeout=timeout, log=self.log)
        return self

    def _accepts_smtp(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.smtp_port), timeout=1) as sock:
                return sock.recv(64).startswith(b"220")
        except OSError:
            return False

    def reload(self) -> None:
        """New main.cf / table settings for every daemon (proxymap reopens its tables)."""
        self.postfix("reload")
        time.sleep(1)  # daemons finish their current request and restart on the next one
        wait_for(self._accepts_smtp, "Postfix's smtpd after reload", log=self.log)

    def stop(self) -> None:
        if self._started:
            self._started = False
            self.postfix("stop", check=False)
            pid_file = self.queue_dir / "pid" / "master.pid"
            deadline = time.monotonic() + 20
            while _master_alive(pid_file) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _master_alive(pid_file):
                self.postfix("abort", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivatePostfix:
        return self.create().start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- commands ---------------------------------------------------------------------------

    def postfix(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self._postfix, "-c", str(self.config_dir), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise PostfixError(
                f"postfix {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{self.log()[-4000:]}"
            )
        return result

    def postconf(self, *settings: str) -> None:
        """`postconf -c DIR -e NAME=VALUE...` (call reload() for running daemons)."""
        subprocess.run(
            [self._postconf, "-c", str(self.config_dir), "-e", *settings],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def get(self, name: str) -> str:
        result = subprocess.run(
            [self._postconf, "-c", str(self.config_dir), "-h", name],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout.strip()

    def postsuper(self, *args: str) -> None:
        postsuper = require_tool("postsuper")
        subprocess.run(
            [postsuper, "-c", str(self.config_dir), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def queue(self) -> list[dict[str, Any]]:
        """The messages in the queue, as `postqueue -j` describes them."""
        postqueue = require_tool("postqueue")
        result = subprocess.run(
            [postqueue, "-c", str(self.config_dir), "-j"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def log(self) -> str:
        try:
            return self.maillog.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_problems(self) -> list[str]:
        """Log lines at level warning or worse (a rejected recipient is only info)."""
        marks = (" warning: ", " error: ", " fatal: ", " panic: ")
        return [line for line in self.log().splitlines() if any(m in line for m in marks)]

    @property
    def submission_listen(self) -> str:
        return f"127.0.0.1:{self.submission_port}" if self.submission_port else "submission"

    @property
    def submissions_listen(self) -> str:
        return f"127.0.0.1:{self.submissions_port}" if self.submissions_port else "submissions"

    @property
    def sasl_socket(self) -> Path:
        return self.queue_dir / "private" / "auth"

    @property
    def lmtp_socket(self) -> Path:
        return self.queue_dir / "private" / "dovecot-lmtp"

    @property
    def quota_status_socket(self) -> Path:
        return self.queue_dir / "private" / "quota-status"


def _master_alive(pid_file: Path) -> bool:
    """Whether the master named in master.pid still runs (Postfix leaves the file behind)."""
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def self_signed_certificate(folder: Path, name: str = "mx.mailadmin.test") -> tuple[Path, Path]:
    """A throw-away certificate and key (PEM, key mode 0600) for TLS on loopback."""
    openssl = require_tool("openssl")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name},IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    key.chmod(0o600)
    return cert, key
