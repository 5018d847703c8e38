"""The panel under load: gunicorn with the production settings, bench.load from a second
process, then the SQL each page runs.

    .venv/bin/python -m bench.panel --db mailadmin_bench_1m [--clients 8] [--duration 20]

Starts ``gunicorn mailadmin.wsgi`` as scripts/run does (3 sync workers unless --workers;
DEBUG off, a SECRET_KEY made for the run, the benchmark database in DATABASE_URL, static
files collected under <out>/var), logs in as the seeded superuser (and, with --domain-admin,
as the domain admin too) and loads each page with N concurrent clients. Afterwards
bench.querycount renders each page once in-process and records its SQL: query count, time
and the plan of its slowest query. Results go to <out>/panel.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from bench.common import ROOT, BenchDB, machine, write_result
from bench.seed_plan import BIG_DOMAIN

PORT = 8100


def pages(db: BenchDB) -> dict[str, str]:
    """Name -> path of the pages to load, chosen from the seeded data."""
    with db.connect() as conn:

        def one(sql: str) -> Any:
            row = conn.execute(sql).fetchone()
            return row[0] if row else None

        small = one("SELECT name FROM domains_domain WHERE id = 2")
        big_count = one(
            "SELECT count(*) FROM mailboxes_mailbox m JOIN domains_domain d"
            f" ON d.id = m.domain_id WHERE d.name = '{BIG_DOMAIN}'"
        )
        domains = one("SELECT count(*) FROM domains_domain")
        # A mailbox of the big domain with a forwarding alias, reached through an alias domain.
        traced = one(
            "SELECT m.local_part || '@' || ad.name FROM mailboxes_mailbox m"
            " JOIN domains_aliasdomain ad ON ad.target_id = m.domain_id"
            " WHERE m.domain_id = 1 AND m.id % 100 = 77 ORDER BY m.id, ad.id LIMIT 1"
        )
        # The big domain's list is paged by keyset ("Next" links ?after=<last local part>):
        # the cursor of the page halfway through is the local part just before it.
        middle_cursor = one(
            "SELECT m.local_part FROM mailboxes_mailbox m JOIN domains_domain d"
            f" ON d.id = m.domain_id WHERE d.name = '{BIG_DOMAIN}'"
            f" ORDER BY m.local_part OFFSET {max(0, int(big_count or 0) // 2 - 1)} LIMIT 1"
        )
    mid_domain_page = max(1, int(domains or 0) // 50 // 2)
    mailboxes = f"/domains/{BIG_DOMAIN}/mailboxes/"
    return {
        "dashboard": "/",
        "domain_list": "/domains/",
        "domain_list_middle_page": f"/domains/?page={mid_domain_page}",
        "domain_search": "/domains/?q=green",
        "mailbox_list_big_domain": mailboxes,
        "mailbox_list_middle_page": f"{mailboxes}?{urlencode({'after': middle_cursor})}",
        "mailbox_search": f"{mailboxes}?q=kovalenko",
        "mailbox_list_small_domain": f"/domains/{small}/mailboxes/",
        "trace": f"/trace/?address={traced}",
        # Quota usage (bench/seed_sql.py's quota_usage): the big domain fullest first, a page
        # of it deep into the mailboxes with a quota (OFFSET 950), its mailboxes over 90% by
        # address, and a small domain by usage.
        "mailbox_list_by_usage": f"{mailboxes}?sort=-usage",
        "mailbox_list_by_usage_page_20": f"{mailboxes}?sort=-usage&page=20",
        "mailbox_list_over_90": f"{mailboxes}?full=1",
        "mailbox_list_small_domain_by_usage": f"/domains/{small}/mailboxes/?sort=-usage",
        # The top bar's search across every domain (mailboxes/search_all.py): what drops down
        # as one types (5 of each kind) and the search page (25 of each), for a name 2.5% of
        # the mailboxes share; and an address typed with "@" (local part contains, domain
        # starts with).
        "global_search_popup": "/search/popup/?q=kovalenko",
        "global_search": "/search/?q=kovalenko",
        "global_search_address": f"/search/?{urlencode({'q': 'anna@' + BIG_DOMAIN[:4]})}",
    }


def panel_env(db: BenchDB, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DEBUG", None)  # production: DEBUG off
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "mailadmin.settings",
            "DATABASE_URL": db.url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "MAILADMIN_VAR_DIR": str(db.out / "var"),
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True)


def start_gunicorn(env: dict[str, str], workers: int, log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "mailadmin.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            "127.0.0.1",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(base: str, timeout: float = 60) -> int:
    """HTTP status of the login page once gunicorn answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return int(urllib.request.urlopen(base + "/accounts/login/", timeout=5).status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"gunicorn did not answer on {base} within {timeout:.0f} s")


def run_load(base: str, db: BenchDB, user: str, page_map: dict[str, str], args: Any) -> Any:
    command = [
        sys.executable,
        "-m",
        "bench.load",
        "--base",
        base,
        "--login",
        str(db.out / "panel-login.json"),
        "--user",
        user,
        "--clients",
        str(args.clients),
        "--duration",
        str(args.duration),
    ]
    for name, path in page_map.items():
        command += ["--page", f"{name}={path}"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=3600)
    sys.stderr.write(result.stderr)
    try:
        return json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": f"bench.load failed ({result.returncode}): {result.stdout[-500:]}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a database filled by bench.seed")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per page")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--domain-admin", action="store_true", help="also load as domain admin")
    parser.add_argument("--no-querycount", action="store_true")
    parser.add_argument(
        "--label", default="", help="write panel-LABEL.json (a variant, e.g. PGOPTIONS set)"
    )
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="NAME",
        help="load only these pages (repeat; default: all); use with --label",
    )
    args = parser.parse_args(argv)
    db = BenchDB(args.db)
    if not db.exists():
        print(f"{db.name} does not exist: run python -m bench.seed first", file=sys.stderr)
        return 2
    seed_info = json.loads((db.out / "seed.json").read_text())
    env = panel_env(db)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    page_map = pages(db)
    if args.page:
        unknown = set(args.page) - page_map.keys()
        if unknown:
            print(f"no such page: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        page_map = {name: path for name, path in page_map.items() if name in args.page}
    base = f"http://127.0.0.1:{PORT}"
    result: dict[str, Any] = {
        "database": db.name,
        "mailboxes": seed_info["plan"]["mailboxes"],
        "clients": args.clients,
        "duration_s": args.duration,
        "gunicorn_workers": args.workers,
        "pages": page_map,
        "machine_before": machine(),
    }
    with (db.out / "gunicorn.log").open("wb") as log:
        server = start_gunicorn(env, args.workers, log)
        try:
            status = wait_ready(base)
            if status != 200:
                result["error"] = f"GET /accounts/login/ answered {status}: the panel is not built"
            else:
                users = ["superuser"] + (["domain_admin"] if args.domain_admin else [])
                result["load"] = {u: run_load(base, db, u, page_map, args) for u in users}
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    if not args.no_querycount and "error" not in result:
        counted = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.querycount",
                "--db",
                db.name,
                "--pages-json",
                json.dumps(page_map),
            ],
            env=panel_env(db, ALLOWED_HOSTS="testserver"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        sys.stderr.write(counted.stderr[-3000:])
        try:
            result["queries"] = json.loads(counted.stdout)
        except json.JSONDecodeError:
            result["queries"] = {"error": counted.stdout[-500:]}
    result["pgoptions"] = os.environ.get("PGOPTIONS", "")
    write_result(db.out / (f"panel-{args.label}.json" if args.label else "panel.json"), result)
    print(json.dumps({k: v for k, v in result.items() if k != "machine_before"}, indent=1))
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
