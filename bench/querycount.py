"""The SQL behind each panel page: how many queries, how long, and the slowest one's plan.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mailadmin_bench_1m ALLOWED_HOSTS=testserver \
        .venv/bin/python -m bench.querycount --db mailadmin_bench_1m --pages-json '{"x": "/"}'

Renders each page once in-process (Django's test client, logged in as the seeded superuser)
after one warm-up request, and prints JSON. bench.panel runs it after the load test; a query
count that grows from one M to the next is a page that does not scale.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--pages-json", required=True, help='{"name": "/path/", ...}')
    parser.add_argument("--user", default="bench")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if connection.settings_dict["NAME"] != args.db:
        raise SystemExit(f"DATABASE_URL names {connection.settings_dict['NAME']}, not {args.db}")
    client = Client()
    client.force_login(get_user_model().objects.get(username=args.user))
    out: dict[str, Any] = {}
    for name, path in json.loads(args.pages_json).items():
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        queries = captured.captured_queries
        slowest = max(queries, key=lambda q: float(q["time"]), default=None)
        page: dict[str, Any] = {
            "status": response.status_code,
            "queries": len(queries),
            "sql_ms": round(sum(float(q["time"]) for q in queries) * 1000, 1),
        }
        if slowest is not None:
            page["slowest_ms"] = round(float(slowest["time"]) * 1000, 1)
            page["slowest_sql"] = slowest["sql"][:2000]
            if slowest["sql"].lstrip().upper().startswith("SELECT"):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
                    page["slowest_plan"] = [row[0] for row in cursor.fetchall()]
        out[name] = page
        print(
            f"# {name}: {page['status']} {page['queries']} queries {page['sql_ms']} ms",
            file=sys.stderr,
        )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
