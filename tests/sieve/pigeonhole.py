"""The real Pigeonhole as the judge of the panel's Sieve scripts: `sievec`, `sieve-test` and
`dovecot-lda`, each with a private Dovecot configuration (never /etc/dovecot).

- `compile` runs sievec: a script it refuses would stop every rule of a mailbox.
- `run` runs sieve-test without -e: it evaluates the script against a message and prints the
  actions the script decided, before Pigeonhole's own checks at delivery (its vacation action
  refuses list mail by itself, for instance). So what `run` shows is the script's own doing:
  the RFC 3834 tests the panel writes are judged alone. `-s` puts the panel's script before
  an owner's script, as sieve_before does.
- `deliver` delivers for real with dovecot-lda: folders on disk, and a vacation reply handed
  to a sendmail stand-in that keeps it. The null sender is only possible here (sieve-test
  refuses an empty -f); a trace file shows which commands the script ran.

Dovecot refuses mail access as root: run as root, the tools work as nobody (mail_uid), in a
fresh folder of the system temp dir that nobody can reach (pytest's tmp_path is mode 0700).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import require_tool

NOBODY = 65534
LDA = "/usr/lib/dovecot/dovecot-lda"

SENDMAIL = """#!/bin/sh
# A sendmail stand-in: keeps what Pigeonhole sends, with its arguments on the first line.
out={out}/sent.$$
{{ echo "ARGS: $*"; cat; }} > "$out"
"""


@dataclass
class Outcome:
    """What sieve-test printed, by script: the actions each performed and the implicit keep
    at its end (the last script's is the one delivery uses)."""

    output: str
    performed: list[str] = field(default_factory=list)
    implicit_keep: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)

    @property
    def vacation_sent(self) -> bool:
        return any(a.startswith("send vacation message") for a in self.performed)

    @property
    def folders(self) -> list[str]:
        """The folders the message is stored in, explicit and implicit keep together."""
        found = []
        for action in [*self.performed, *self.implicit_keep]:
            if action.startswith("store message in folder: "):
                found.append(action.removeprefix("store message in folder: ").split(" [")[0])
        return found

    @property
    def redirects(self) -> list[str]:
        return [
            a.removeprefix("redirect message to: ").strip("<>")
            for a in self.performed
            if a.startswith("redirect message to: ")
        ]

    @property
    def discarded(self) -> bool:
        return "discard" in self.performed

    def vacation_field(self, name: str) -> str:
        for line in self.output.splitlines():
            key, _sep, value = line.strip().removeprefix("=> ").partition(" : ")
            if key.strip() == name:
                return value
        raise KeyError(name)


def _parse(output: str) -> Outcome:
    outcome = Outcome(output)
    section: list[str] | None = None
    for raw in output.splitlines():
        line = raw.strip()
        if line.startswith("## Executing script: "):
            outcome.scripts.append(line.removeprefix("## Executing script: "))
            continue
        if line == "Performed actions:":
            section = outcome.performed
            continue
        if line == "Implicit keep:":
            outcome.implicit_keep = []
            section = outcome.implicit_keep
            continue
        if section is None:
            continue
        if line.startswith("* "):
            section.append(line[2:])
        elif line.startswith("+ add IMAP flags: ") and section:
            section[-1] += " [" + line.removeprefix("+ add IMAP flags: ") + "]"
    return outcome


@dataclass
class Delivery:
    returncode: int
    log: str
    trace: str
    sent: list[str]
    maildir: Path

    def folder_messages(self, folder: str = "INBOX") -> list[str]:
        """The messages stored in `folder` (Maildir++: INBOX is the root, Junk is .Junk)."""
        base = self.maildir if folder == "INBOX" else self.maildir / f".{folder}"
        files = [p for sub in ("new", "cur") for p in sorted((base / sub).glob("*"))]
        return [p.read_text(errors="replace") for p in files]


class Pigeonhole:
    """A private Dovecot configuration for Pigeonhole's tools in a fresh folder; close()
    removes it."""

    def __init__(self) -> None:
        self.sievec = require_tool("sievec")
        self.sieve_test = require_tool("sieve-test")
        self.root = Path(tempfile.mkdtemp(prefix="mailadmin-sieve-"))
        self.as_root = os.geteuid() == 0
        self.uid = NOBODY if self.as_root else os.geteuid()
        self.gid = NOBODY if self.as_root else os.getegid()
        self.root.chmod(0o755)
        self.count = 0

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _folder(self) -> Path:
        """A new folder for one run, owned by the mail uid."""
        self.count += 1
        folder = self.root / f"run{self.count}"
        folder.mkdir()
        for sub in ("home", "out", "trace", "run", "state"):
            (folder / sub).mkdir()
        if self.as_root:
            for path in [folder, *folder.iterdir()]:
                os.chown(path, self.uid, self.gid)
        return folder

    def _config(self, folder: Path, *, before: Path | None = None) -> Path:
        home = folder / "home"
        lines = [
            f"mail_home = {home}",
            f"mail_location = maildir:{home}/Maildir",
            f"base_dir = {folder}/run",
            f"state_dir = {folder}/state",
            f"log_path = {folder}/dovecot.log",
            f"info_log_path = {folder}/dovecot.log",
            f"sendmail_path = {folder}/sendmail",
            "postmaster_address = postmaster@example.org",
            "protocol lda {",
            "  mail_plugins = sieve",
            "}",
            "plugin {",
            f"  sieve = file:{home}/sieve;active={home}/.dovecot.sieve",
            f"  sieve_trace_dir = {folder}/trace",
            "  sieve_trace_level = commands",
        ]
        if before is not None:
            lines.append(f"  sieve_before = {before}")
        lines.append("}")
        if self.as_root:
            lines = [f"mail_uid = {self.uid}", f"mail_gid = {self.gid}", *lines]
        path = folder / "dovecot.conf"
        path.write_text("\n".join(lines) + "\n")
        sendmail = folder / "sendmail"
        sendmail.write_text(SENDMAIL.format(out=folder / "out"))
        sendmail.chmod(0o755)
        log = folder / "dovecot.log"
        log.touch()
        if self.as_root:
            os.chown(log, self.uid, self.gid)
        return path

    def _write(self, folder: Path, name: str, text: str | bytes) -> Path:
        path = folder / name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        if self.as_root:
            os.chown(path, self.uid, self.gid)
        return path

    def compile(self, script: str) -> None:
        """sievec must take `script`; an AssertionError shows why not."""
        folder = self._folder()
        config = self._config(folder)
        path = self._write(folder, "panel.sieve", script)
        result = subprocess.run(
            [self.sievec, "-c", str(config), str(path), str(folder / "panel.svbin")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise AssertionError(f"sievec refused the script:\n{result.stderr}\n{script}")

    def run(
        self,
        script: str,
        message: str,
        *,
        sender: str = "sender@example.net",
        recipient: str,
        original: str | None = None,
        owner_script: str | None = None,
    ) -> Outcome:
        """sieve-test: `script` (with `owner_script` after it, as Dovecot runs the owner's)
        for `message` from `sender` to `recipient` (the final recipient), sent to
        `original` (default: the recipient)."""
        folder = self._folder()
        config = self._config(folder)
        self._write(folder, "panel.sieve", script)
        self._write(folder, "message.eml", message)
        # Names relative to the run's folder: sieve-test 0.5.19 fails to open a -s script
        # given by an absolute path ("internal error").
        args = [self.sieve_test, "-C", "-c", str(config), "-f", sender, "-r", recipient]
        args += ["-a", original or recipient]
        if owner_script is not None:
            self._write(folder, "owner.sieve", owner_script)
            args += ["-s", "panel.sieve", "owner.sieve"]
        else:
            args += ["panel.sieve"]
        result = subprocess.run(
            [*args, "message.eml"], capture_output=True, text=True, timeout=60, cwd=folder
        )
        if result.returncode != 0 or "Error:" in result.stderr:
            raise AssertionError(
                f"sieve-test failed ({result.returncode}):\n{result.stderr}\n{script}"
            )
        return _parse(result.stdout)

    def deliver(
        self, script: str, message: str, *, sender: str, recipient: str, original: str | None = None
    ) -> Delivery:
        """dovecot-lda delivers `message` with `script` as sieve_before: `sender` may be ""
        (the null sender <>)."""
        lda = require_tool(LDA)
        folder = self._folder()
        panel = self._write(folder, "panel.sieve", script)
        config = self._config(folder, before=panel)
        args = [lda, "-c", str(config), "-f", sender, "-a", original or recipient]
        env = {"HOME": str(folder / "home"), "USER": recipient, "PATH": "/usr/bin:/bin"}
        if self.as_root:
            args = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups"]
            args += ["env", "-i", *(f"{k}={v}" for k, v in env.items()), lda]
            args += ["-c", str(config), "-f", sender, "-a", original or recipient]
            env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}
        result = subprocess.run(
            args, input=message.encode("utf-8"), capture_output=True, env=env, timeout=60
        )
        traces = sorted((folder / "trace").glob("*"))
        return Delivery(
            returncode=result.returncode,
            log=(folder / "dovecot.log").read_text(errors="replace")
            + result.stderr.decode(errors="replace"),
            trace="".join(p.read_text(errors="replace") for p in traces),
            sent=[p.read_text(errors="replace") for p in sorted((folder / "out").glob("*"))],
            maildir=folder / "home" / "Maildir",
        )


def message(
    *,
    sender: str = "Sender <sender@example.net>",
    to: str,
    subject: str = "Hello",
    headers: dict[str, str] | None = None,
    body: str = "Hello there.\n",
) -> str:
    """A plain message, with `headers` added after the usual ones."""
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        "Message-ID: <test-1@example.net>",
        "Date: Mon, 1 Jan 2024 10:00:00 +0000",
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return "\n".join(lines) + "\n\n" + body
