"""Streaming replica lag and fail-over time, as the mail side sees them.

Builds the stack of the end-to-end replica test (tests/e2e/replica_stack.py: a private
primary, a `pg_basebackup -R` standby, Postfix and Dovecot reading `replica primary`), then:

- lag: a mailbox made through mailboxes.services on the primary, until a `postmap -q` of the
  replica alone answers its address (median over --changes; the poll itself, a postmap
  process, is measured too: it bounds the resolution);
- fail-over: the replica stopped (`pg_ctl stop -m fast`), until the first lookup through
  proxymap and the first Dovecot login answered (by the primary), over --failovers runs;
  the replica is started again between runs, and proxymap and Dovecot's auth restarted so
  that each run begins on the replica (proxymap: reloaded until its session is there).

Runs as root (Postfix and Dovecot drop privileges). Writes var/bench/replica.json.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import OUT_ROOT, machine, write_result
from tests.e2e.replica_stack import (
    ADDRESS,
    DOVECOT_ROLE,
    POSTFIX_ROLE,
    ReplicaStack,
    new_addresses,
    replica_stack,
    work_dir,
)


def _until(answered: Callable[[], bool], timeout: float = 60) -> float:
    """Seconds until `answered()` is true."""
    start = time.monotonic()
    while not answered():
        if time.monotonic() - start > timeout:
            raise RuntimeError("no answer")
    return time.monotonic() - start


def failover(stack: ReplicaStack) -> dict[str, Any]:
    """One run: both clients on the replica, the replica stopped, the first answers."""
    stack.dovecot.doveadm("reload")
    _until(lambda: stack.auth().ok and stack.replica_connections(DOVECOT_ROLE) > 0)
    # proxymap picks its host at random: new proxymap processes until one is on the replica.
    for _ in range(10):
        stack.postfix.reload()
        stack.postmap(ADDRESS)
        if stack.replica_connections(POSTFIX_ROLE) > 0:
            break
    failed_logins = 0

    def login() -> bool:
        nonlocal failed_logins
        ok = stack.auth().ok
        failed_logins += not ok
        return ok

    on_replica = stack.replica_connections(POSTFIX_ROLE) > 0
    stack.replica.stop()
    stopped = time.monotonic()
    postfix_s = _until(lambda: stack.postmap(ADDRESS).returncode == 0)
    _until(login)
    run: dict[str, Any] = {
        "postfix_was_on_replica": on_replica,
        "postfix_s": round(postfix_s, 4),
        "dovecot_s": round(time.monotonic() - stopped, 4),
        "dovecot_failed_logins": failed_logins,
    }
    stack.replica.start()
    stack.replica.wait_replaying(stack.primary)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=20, help="changes for the lag")
    parser.add_argument("--failovers", type=int, default=3, help="replica stops")
    args = parser.parse_args(argv)
    work = work_dir()
    try:
        with replica_stack(work) as stack:
            polls = []
            for _ in range(10):
                start = time.monotonic()
                stack.on_replica(ADDRESS)
                polls.append(time.monotonic() - start)
            lags = stack.lags(new_addresses(args.changes))
            runs = [failover(stack) for _ in range(args.failovers)]
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the export holds the role passwords
    result = {
        "machine": machine(),
        "note": "2 cores shared with other work while measuring",
        "changes": args.changes,
        "lag_median_s": round(statistics.median(lags), 4),
        "lag_max_s": round(max(lags), 4),
        "poll_median_s": round(statistics.median(polls), 4),
        "failovers": runs,
    }
    path = OUT_ROOT / "replica.json"
    write_result(path, result)
    print(result)
    print(f"results in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
