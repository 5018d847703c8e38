"""Markdown tables of the last run at every size: how the cost grows with M.

    .venv/bin/python -m bench.report [--sizes 1000 100000 1000000]

Reads <out>/<database>/{seed,lookups,panel}.json (written by bench.seed, bench.lookups and
bench.panel), and <out>/mailadmin_pfadata_<size>/pfa-data.json (bench.pfa_data), and prints the
tables docs/benchmarks.md carries.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.common import OUT_ROOT, default_db_name, size_label

LAYOUTS = ("mailadmin", "postfixadmin", "hash")


def _load(size: int, name: str) -> dict[str, Any] | None:
    path = OUT_ROOT / default_db_name(size) / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _runs(sizes: list[int], name: str) -> dict[int, dict[str, Any]]:
    """The results of `name` at each size that has them."""
    return {size: data for size in sizes if (data := _load(size, name))}


def machine_table(sizes: list[int]) -> list[str]:
    lines = [
        "| run | when | cpus | RAM GiB | PostgreSQL | shared_buffers | load avg before → after |"
    ]
    lines.append("| --- | --- | --- | --- | --- | --- | --- |")
    for size in sizes:
        for name in ("lookups", "panel"):
            data = _load(size, name)
            if not data:
                continue
            m = data["machine_before"]
            load = f"{m['loadavg'][0]} → {data.get('loadavg_after', ['?'])[0]}"
            lines.append(
                f"| {name} {size_label(size)} | {m['when']} | {m['cpus']} | {m['ram_gib']} "
                f"| {m['postgresql'].split()[0]} | {m.get('pg_shared_buffers', '?')} | {load} |"
            )
    return lines


def seed_table(sizes: list[int]) -> list[str]:
    lines = [
        "| M | domains | aliases | alias domains | rows inserted (all tables) | insert s "
        "| mailboxes/s | VACUUM ANALYZE s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size in sizes:
        data = _load(size, "seed")
        if not data:
            continue
        counts, t = data["counts"], data["timings"]
        rows = sum(counts.values())
        lines.append(
            f"| {size_label(size)} | {counts['domains_domain']} | {counts['mailboxes_alias']} "
            f"| {counts['domains_aliasdomain']} | {rows} | {t['insert_total_s']} "
            f"| {t['mailboxes_per_s']} | {t['vacuum_analyze_s']} |"
        )
    return lines


def lookup_table(sizes: list[int]) -> list[str]:
    runs = _runs(sizes, "lookups")
    if not runs:
        return ["(no lookup results)"]
    labels = [size_label(s) for s in runs]
    header = "| parameter | layout | " + " | ".join(f"µs/lookup {lb}" for lb in labels)
    header += " | " + " | ".join(f"lookups/s {lb}" for lb in labels) + " | hits |"
    lines = [header, "| --- | --- |" + " --- |" * (2 * len(labels) + 1)]
    first = next(iter(runs.values()))
    for parameter in first["parameters"]:
        for layout in LAYOUTS:
            cells_us, cells_rate, hits = [], [], ""
            for data in runs.values():
                row = data["parameters"].get(parameter, {}).get(layout)
                cells_us.append(f"{row['us_per_lookup']}" if row else "-")
                cells_rate.append(f"{row['lookups_per_s']}" if row else "-")
                if row:
                    hits = f"{row['hits']}/{row['keys']}"
            if all(c == "-" for c in cells_us):
                continue
            lines.append(
                f"| {parameter} | {layout} | "
                + " | ".join(cells_us)
                + " | "
                + " | ".join(cells_rate)
                + f" | {hits} |"
            )
    return lines


def panel_table(sizes: list[int], user: str = "superuser") -> list[str]:
    runs = _runs(sizes, "panel")
    if not runs:
        return ["(no panel results)"]
    lines = [
        "| page | M | p50 ms | p95 ms | p99 ms | req/s | requests | errors | queries | SQL ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    pages: list[str] = []
    for data in runs.values():
        pages += [p for p in data.get("pages", {}) if p not in pages]
    for page in pages:
        for size, data in runs.items():
            if "error" in data:
                lines.append(f"| {page} | {size_label(size)} | {data['error']} |||||||| ")
                continue
            load = data.get("load", {}).get(user, {})
            row = load.get("pages", {}).get(page)
            q = data.get("queries", {}).get(page, {})
            if not row:
                continue
            lines.append(
                f"| {page} | {size_label(size)} | {row['p50_ms']} | {row['p95_ms']} "
                f"| {row['p99_ms']} | {row['rps']} | {row['requests']} | {row['errors']} "
                f"| {q.get('queries', '?')} | {q.get('sql_ms', '?')} |"
            )
    return lines


def explain_table(size: int) -> list[str]:
    data = _load(size, "explain")
    if not data:
        return ["(no bench.explain results)"]
    lines = [
        f"| query ({size_label(size)}) | planning mailadmin µs | execution mailadmin µs "
        "| planning PostfixAdmin µs | execution PostfixAdmin µs |",
        "| --- | --- | --- | --- | --- |",
    ]
    for parameter, row in data["parameters"].items():
        ours, theirs = row.get("mailadmin", {}), row.get("postfixadmin", {})
        lines.append(
            f"| {parameter} | {ours.get('planning_us', '-')} | {ours.get('execution_us', '-')} "
            f"| {theirs.get('planning_us', '-')} | {theirs.get('execution_us', '-')} |"
        )
    return lines


def planfix_table(size: int) -> list[str]:
    data = _load(size, "planfix")
    if not data:
        return ["(no bench.planfix results)"]
    variants = ("views", "functions")
    lines = [
        f"| parameter ({size_label(size)}) | "
        + " | ".join(f"{v} µs/lookup" for v in variants)
        + " |",
        "| --- |" + " --- |" * len(variants),
    ]
    for parameter, row in data["parameters"].items():
        cells = [str(row.get(v, {}).get("us_per_lookup", "-")) for v in variants]
        lines.append(f"| {parameter} | " + " | ".join(cells) + " |")
    return lines


def pfa_data_table(size: int) -> list[str]:
    path = OUT_ROOT / f"mailadmin_pfadata_{size_label(size)}" / "pfa-data.json"
    if not path.exists():
        return ["(no bench.pfa_data results)"]
    from bench.pfa_data import markdown

    return markdown(json.loads(path.read_text())).splitlines()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    args = parser.parse_args(argv)
    out: list[str] = [f"Results from {Path(OUT_ROOT)}", ""]
    for title, table in (
        ("Machine", machine_table(args.sizes)),
        ("Seeding", seed_table(args.sizes)),
        ("Lookups", lookup_table(args.sizes)),
        ("Panel", panel_table(args.sizes)),
        ("Planning against execution", explain_table(max(args.sizes))),
        ("Candidate fixes for the lookups", planfix_table(max(args.sizes))),
        ("Lookups after a PostfixAdmin import", pfa_data_table(100_000)),
    ):
        out += [f"### {title}", "", *table, ""]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
