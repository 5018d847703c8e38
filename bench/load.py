"""A small closed-loop HTTP load generator for the panel (standard library only).

    .venv/bin/python -m bench.load --login var/bench/DB/panel-login.json \
        --clients 8 --duration 20 --page dashboard=/ --page domains=/domains/

It logs in once through the panel's login form (``/accounts/login/``: CSRF token, username,
password), then, page after page, runs N clients that each send one request after another
with the session cookie for the given time (or until --max-requests), and prints JSON: per
page the requests, errors (non-200 answers, redirects to the login page, broken connections),
requests per second and the p50/p95/p99 latency. Each request is a new connection closed by
the server, as gunicorn's sync workers answer. Only loopback addresses are accepted as
targets, and every run is bounded in time and in requests.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import ipaddress
import json
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.common import percentile

MAX_DURATION_S = 300.0
MAX_REQUESTS = 200_000
LOGIN_PATH = "/accounts/login/"
_CSRF = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')


class LoadError(Exception):
    pass


def check_loopback(base: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(base)
    if parts.scheme != "http" or not parts.hostname:
        raise LoadError(f"{base}: an http:// URL on this machine")
    for info in socket.getaddrinfo(parts.hostname, parts.port or 80, type=socket.SOCK_STREAM):
        if not ipaddress.ip_address(info[4][0]).is_loopback:
            raise LoadError(f"{base}: only loopback addresses may be load-tested")
    return parts.hostname, parts.port or 80


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def login(base: str, username: str, password: str) -> str:
    """Log in through the form; the Cookie header of the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    try:
        page = opener.open(base + LOGIN_PATH, timeout=30).read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise LoadError(f"GET {LOGIN_PATH}: HTTP {exc.code} (is the login page built?)") from None
    match = _CSRF.search(page)
    if not match:
        raise LoadError(f"{LOGIN_PATH} has no csrfmiddlewaretoken field")
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)}
    ).encode()
    request = urllib.request.Request(
        base + LOGIN_PATH, data=form, headers={"Referer": base + LOGIN_PATH}
    )
    try:
        answer = opener.open(request, timeout=30)
        status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    cookies = {c.name: c.value for c in jar}
    if status != 302 or "sessionid" not in cookies:
        raise LoadError(f"login as {username!r} failed (HTTP {status}, no session cookie)")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


@dataclass
class PageRun:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    body_bytes: int = 0


async def _get(host: str, port: int, path: str, cookie: str) -> tuple[int, str, int]:
    """(status, Location header, body length) of one GET on a fresh connection."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                "Accept: text/html\r\nConnection: close\r\n\r\n"
            ).encode("latin-1")
        )
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return 0, "", 0
    location = next(
        (ln.split(":", 1)[1].strip() for ln in lines[1:] if ln.lower().startswith("location:")), ""
    )
    return status, location, len(body)


async def _client(
    host: str, port: int, path: str, cookie: str, run: PageRun, deadline: float, budget: list[int]
) -> None:
    while time.perf_counter() < deadline and budget[0] > 0:
        budget[0] -= 1
        started = time.perf_counter()
        try:
            status, location, size = await asyncio.wait_for(_get(host, port, path, cookie), 60)
        except (TimeoutError, OSError) as exc:
            run.errors[type(exc).__name__] += 1
            continue
        run.latencies.append(time.perf_counter() - started)
        run.body_bytes += size
        if status != 200:
            kind = "login redirect" if LOGIN_PATH in location else f"HTTP {status}"
            run.errors[kind] += 1


async def load_page(
    host: str, port: int, path: str, cookie: str, clients: int, duration: float, max_requests: int
) -> dict[str, Any]:
    run = PageRun()
    budget = [max_requests]
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(
        *(_client(host, port, path, cookie, run, deadline, budget) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    lat = sorted(run.latencies)
    done = len(lat)
    return {
        "path": path,
        "clients": clients,
        "requests": done,
        "errors": sum(run.errors.values()),
        "error_kinds": dict(run.errors),
        "seconds": round(elapsed, 2),
        "rps": round(done / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(lat, 50) * 1000, 1),
        "p95_ms": round(percentile(lat, 95) * 1000, 1),
        "p99_ms": round(percentile(lat, 99) * 1000, 1),
        "max_ms": round((lat[-1] if lat else 0) * 1000, 1),
        "mean_body_kb": round(run.body_bytes / done / 1024, 1) if done else 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8100")
    parser.add_argument("--login", required=True, help="panel-login.json written by bench.seed")
    parser.add_argument("--user", default="superuser", choices=("superuser", "domain_admin"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per page")
    parser.add_argument("--max-requests", type=int, default=20_000, help="per page")
    parser.add_argument("--warmup", type=int, default=3, help="requests per page before timing")
    parser.add_argument(
        "--page", action="append", default=[], metavar="NAME=PATH", help="repeatable"
    )
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_S or not 0 < args.max_requests <= MAX_REQUESTS:
        parser.error(f"duration <= {MAX_DURATION_S:.0f} s and max-requests <= {MAX_REQUESTS}")
    if not 1 <= args.clients <= 64:
        parser.error("1 to 64 clients")
    try:
        host, port = check_loopback(args.base)
        with open(args.login) as handle:
            credentials = json.load(handle)
        cookie = login(args.base, credentials[args.user], credentials["password"])
    except (LoadError, OSError) as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    pages = dict(item.split("=", 1) for item in args.page)
    results: dict[str, Any] = {}
    for name, path in pages.items():
        for _ in range(args.warmup):
            asyncio.run(load_page(host, port, path, cookie, 1, 60, 1))
        results[name] = asyncio.run(
            load_page(host, port, path, cookie, args.clients, args.duration, args.max_requests)
        )
        print(f"# {name}: {json.dumps(results[name])}", file=sys.stderr, flush=True)
    print(json.dumps({"user": args.user, "pages": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
