"""The panel beside PostfixAdmin's own web UI on the same data, one request at a time.

    .venv/bin/python -m bench.pfa_panel --db mailadmin_bench_1k [--requests 30]
        [--pfa-base http://127.0.0.1:8200 --pfa-user admin@pfa.example --pfa-password X]

Our side: ``gunicorn mailadmin.wsgi`` started as bench.panel starts it (production settings,
DEBUG off, 3 sync workers), logged in as the seeded superuser. PostfixAdmin's side (when
--pfa-base is given): a PostfixAdmin UI already serving the same rows (bench/pfa_ui.sh sets
one up with Debian's postfixadmin package and ``php -S``), logged in as a superadmin.

Each page is asked sequentially (one client, a new connection per request, as both servers
close it), after two warm-up requests, N times; the median and the fastest in ms are
reported. Pages, the same rows on both sides: the domain list, one domain's mailbox list, the
edit form of one of its mailboxes, a search with one hit, and the start page (our dashboard,
PostfixAdmin's main.php). Results go to <out>/pfa-panel.json.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import signal
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from bench.common import BenchDB, machine, write_result
from bench.load import check_loopback, login
from bench.panel import PORT, manage, panel_env, start_gunicorn, wait_ready

# The seeded domain both sides show: a small one (1k: about 45 mailboxes, one page).
DOMAIN_ID = 2


def rows(db: BenchDB) -> dict[str, str]:
    """The domain, one of its mailboxes and a search term that only that mailbox matches."""
    with db.connect() as conn:
        found = conn.execute(
            "SELECT d.name, m.id, m.local_part FROM domains_domain d"
            " JOIN mailboxes_mailbox m ON m.domain_id = d.id WHERE d.id = %s"
            " AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox o WHERE o.id <> m.id"
            "   AND (o.local_part LIKE '%%' || m.local_part || '%%'"
            "     OR o.name ILIKE '%%' || m.local_part || '%%'))"
            " ORDER BY m.local_part LIMIT 1",
            (DOMAIN_ID,),
        ).fetchone()
    if found is None:
        raise SystemExit(f"{db.name}: no mailbox of domain {DOMAIN_ID} with a unique local part")
    domain, pk, local_part = found
    return {"domain": domain, "pk": str(pk), "local_part": local_part}


def our_pages(row: dict[str, str]) -> dict[str, str]:
    d = row["domain"]
    term = urllib.parse.urlencode({"q": row["local_part"]})
    return {
        "domain_list": "/domains/",
        "mailbox_list": f"/domains/{d}/mailboxes/",
        "mailbox_edit": f"/domains/{d}/mailboxes/{row['pk']}/edit/",
        "search_one_hit": f"/domains/{d}/mailboxes/?{term}",
        "start_page": "/",
    }


def pfa_pages(row: dict[str, str]) -> dict[str, str]:
    """PostfixAdmin 3.3's pages for the same rows."""
    d = urllib.parse.quote(row["domain"])
    address = urllib.parse.quote(f"{row['local_part']}@{row['domain']}")
    term = urllib.parse.quote(row["local_part"])
    return {
        "domain_list": "/list.php?table=domain",
        "mailbox_list": f"/list-virtual.php?domain={d}",
        "mailbox_edit": f"/edit.php?table=mailbox&edit={address}",
        "search_one_hit": f"/list-virtual.php?domain={d}&search%5B_%5D={term}",
        "start_page": "/main.php",
    }


def timed_get(host: str, port: int, path: str, cookie: str) -> tuple[float, int, int]:
    """(ms, status, body bytes) of one GET on a new connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Connection": "close"})
        answer = conn.getresponse()
        body = answer.read()
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000, answer.status, len(body)


def measure(base: str, cookie: str, pages: dict[str, str], n: int) -> dict[str, Any]:
    host, port = check_loopback(base)
    out: dict[str, Any] = {}
    for name, path in pages.items():
        for _ in range(2):
            timed_get(host, port, path, cookie)
        times, statuses, size = [], set(), 0
        for _ in range(n):
            ms, status, size = timed_get(host, port, path, cookie)
            times.append(ms)
            statuses.add(status)
        out[name] = {
            "path": path,
            "median_ms": round(statistics.median(times), 2),
            "min_ms": round(min(times), 2),
            "status": sorted(statuses),
            "bytes": size,
        }
        print(f"# {base} {name}: {out[name]['median_ms']} ms {sorted(statuses)}", file=sys.stderr)
    return out


_PFA_TOKEN = re.compile(r'name="token"\s+value="([^"]+)"')


def pfa_login(base: str, user: str, password: str) -> str:
    """Log in to PostfixAdmin 3.3 (login.php: fUsername, fPassword, token); the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login.php", timeout=30).read().decode("utf-8", "replace")
    form = {"fUsername": user, "fPassword": password, "lang": "en", "submit": "Login"}
    if match := _PFA_TOKEN.search(page):
        form["token"] = match.group(1)
    answer = opener.open(
        urllib.request.Request(base + "/login.php", data=urllib.parse.urlencode(form).encode()),
        timeout=30,
    )
    if not answer.geturl().endswith("main.php"):
        raise SystemExit(f"PostfixAdmin login as {user!r} failed (ended on {answer.geturl()})")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a database filled by bench.seed")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument(
        "--pfa-base", default="", help="PostfixAdmin's UI, e.g. http://127.0.0.1:8200"
    )
    parser.add_argument("--pfa-user", default="admin@pfa.example")
    parser.add_argument(
        "--pfa-password",
        default=os.environ.get("PFA_PASSWORD", ""),
        help="default: what bench/pfa_ui.sh wrote to <out>/pfa-ui/admin-password",
    )
    parser.add_argument("--label", default="", help="write pfa-panel-LABEL.json")
    args = parser.parse_args(argv)
    db = BenchDB(args.db)
    if not db.exists():
        print(f"{db.name} does not exist: run python -m bench.seed first", file=sys.stderr)
        return 2
    row = rows(db)
    login_info = json.loads((db.out / "panel-login.json").read_text())
    env = panel_env(db)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    base = f"http://127.0.0.1:{PORT}"
    result: dict[str, Any] = {
        "database": db.name,
        "requests": args.requests,
        "gunicorn_workers": args.workers,
        "rows": row,
        "machine_before": machine(),
    }
    with (db.out / "gunicorn-pfa-panel.log").open("wb") as log:
        server = start_gunicorn(env, args.workers, log)
        try:
            wait_ready(base)
            cookie = login(base, login_info["superuser"], login_info["password"])
            result["mailadmin"] = measure(base, cookie, our_pages(row), args.requests)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    if args.pfa_base:
        password = args.pfa_password or (db.out / "pfa-ui" / "admin-password").read_text().strip()
        cookie = pfa_login(args.pfa_base, args.pfa_user, password)
        result["postfixadmin"] = measure(args.pfa_base, cookie, pfa_pages(row), args.requests)
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    name = f"pfa-panel-{args.label}.json" if args.label else "pfa-panel.json"
    write_result(db.out / name, result)
    print(json.dumps({k: v for k, v in result.items() if k != "machine_before"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
