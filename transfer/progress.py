"""A progress bar on a terminal, a line now and then anywhere else."""

from __future__ import annotations

import time
from typing import TextIO

_LABELS = {"read": "reading", "check": "checking", "write": "writing"}


class ProgressBar:
    def __init__(self, stream: TextIO, *, width: int = 30, every: float = 0.2) -> None:
        self.stream = stream
        self.width = width
        self.every = every
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last = 0.0
        self.started = time.monotonic()
        self.open_line = False
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase != self.phase:
            self.close()  # each phase gets its own line
            self.phase = phase
            self.started = now
        elif now - self.last < (self.every if self.tty else 5.0) and done < total:
            return
        self.last = now
        label = _LABELS.get(phase, phase)
        rate = done / max(now - self.started, 1e-6)
        if total:
            filled = min(self.width, self.width * done // total)
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"{label:8} [{bar}] {done}/{total} rows ({rate:,.0f}/s)"
        else:
            text = f"{label:8} {done} rows ({rate:,.0f}/s)"
        if self.tty:
            self.stream.write("\r" + text)
            self.open_line = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.open_line:
            self.stream.write("\n")
            self.stream.flush()
            self.open_line = False
