"""Postfix and Dovecot reading a PostgreSQL streaming replica, with the primary second.

The stack (tests/e2e/replica_stack.py): a private primary made by initdb, a hot standby of
it made by `pg_basebackup -R`, the contract database migrated into the primary, and the
guide's export with `--db-url postgresql://REPLICA,PRIMARY/mailadmin` installed into a
private Postfix (lookups through proxymap) and a private Dovecot (auth).

- with the primary stopped, lookups and logins are answered: by the replica;
- a mailbox made through mailboxes.services on the primary reaches the replica's lookups
  (polled, the lag printed; bench/replica.py measures it);
- the replica stopped in the middle of a run of lookups and logins: none fails, the primary
  answers; started again, the replica is used again.

Postfix tries a table's hosts in random order (pgsql_table(5)) and skips a dead one;
Dovecot's `connect` is one libpq host list, tried in order, so Dovecot prefers the replica.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.replica_stack import (
    ADDRESS,
    DOVECOT_ROLE,
    POSTFIX_ROLE,
    TABLE,
    ReplicaStack,
    new_addresses,
    replica_stack,
)

pytestmark = [pytest.mark.tools, pytest.mark.e2e]

ANSWER = "example.com/ann/"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicaStack]:
    with replica_stack(tmp_path_factory.mktemp("replica")) as built:
        yield built


def test_export_names_the_replica_first(stack: ReplicaStack) -> None:
    table = (stack.postfix.tables_dir / f"{TABLE}.cf").read_text()
    assert (
        f"hosts = inet:127.0.0.1:{stack.replica.port} inet:127.0.0.1:{stack.primary.port}\n"
        in table
    )
    sql_conf = (Path(stack.dovecot.includes[0]).parent / "dovecot-sql.conf.ext").read_text()
    assert (
        f"connect = host=127.0.0.1,127.0.0.1 port={stack.replica.port},{stack.primary.port} "
        in sql_conf
    )


def test_lookups_and_logins_are_served_by_the_replica(stack: ReplicaStack) -> None:
    assert stack.auth().ok
    # Dovecot's libpq host list starts with the replica: its session is there.
    assert stack.replica_connections(DOVECOT_ROLE) >= 1
    stack.primary.stop()
    try:
        for _ in range(5):
            result = stack.postmap(ADDRESS)
            assert result.returncode == 0 and result.stdout.strip() == ANSWER, result.stderr
            assert stack.auth().ok, stack.dovecot.log()[-3000:]
        assert stack.replica_connections(POSTFIX_ROLE) >= 1  # proxymap's session
    finally:
        stack.primary.start()
        stack.replica.wait_replaying(stack.primary)


def test_a_change_on_the_primary_reaches_the_replica(stack: ReplicaStack) -> None:
    addresses = new_addresses(3)
    lags = stack.lags(addresses)
    print(f"\nreplica lag (commit to answer), seconds: {', '.join(f'{x:.3f}' for x in lags)}")
    for address in addresses:
        result = stack.postmap(address)
        assert result.returncode == 0 and result.stdout.strip(), result.stderr


def test_the_primary_answers_while_the_replica_is_down(stack: ReplicaStack) -> None:
    # proxymap skips a host for retry_interval (60 s) after a failed connection: the primary,
    # stopped by the test above. New proxymap processes start with both hosts alive.
    stack.postfix.reload()
    results: list[tuple[float, str, bool, str]] = []
    done = threading.Event()

    def run() -> None:
        while not done.is_set():
            lookup = stack.postmap(ADDRESS)
            ok = lookup.returncode == 0 and lookup.stdout.strip() == ANSWER
            results.append((time.monotonic(), "postmap", ok, lookup.stderr))
            auth = stack.auth()
            results.append((time.monotonic(), "auth", auth.ok, auth.output))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        while len(results) < 6:
            time.sleep(0.05)
        stack.replica.stop()
        stopped = time.monotonic()
        while len([r for r in results if r[0] > stopped]) < 10:
            time.sleep(0.05)
        stack.replica.start()
        stack.replica.wait_replaying(stack.primary)
        restarted = len(results)
        while len(results) < restarted + 6:
            time.sleep(0.05)
    finally:
        done.set()
        worker.join(timeout=120)
    after = [r for r in results if r[0] > stopped]
    failed = [r for r in results if not r[2]]
    print(
        f"\nfirst answer after the replica stopped: {after[0][0] - stopped:.3f} s "
        f"({after[0][1]}); lookups and logins: {len(results)}, failed: {len(failed)}"
    )
    # proxymap's query fails on the dead replica and is asked again of the primary at once.
    assert not [r for r in failed if r[1] == "postmap"], failed
    # Dovecot retries the query that was on the replica's session once and gives up: that
    # one login is answered with a temporary failure; every later one is served.
    assert len(failed) <= 1, failed
    assert all("code=temp_fail" in r[3] for r in failed), failed
    assert after[-1][2]


def test_the_replica_is_used_again(stack: ReplicaStack) -> None:
    # Postfix: each new connection picks a host at random; a new postmap without proxymap
    # opens one, and some land on the replica.
    before = stack.replica_logins(POSTFIX_ROLE)
    deadline = time.monotonic() + 30
    while stack.replica_logins(POSTFIX_ROLE) == before:
        assert time.monotonic() < deadline, "Postfix never came back to the replica"
        assert stack.direct_postmap(ADDRESS) == ANSWER
    # Dovecot stays on the primary until its session ends; a reload opens a new one, on the
    # first host of the list again.
    stack.dovecot.doveadm("reload")
    deadline = time.monotonic() + 30
    while stack.replica_connections(DOVECOT_ROLE) == 0:
        assert time.monotonic() < deadline, "Dovecot never came back to the replica"
        assert stack.auth().ok
        time.sleep(0.1)
