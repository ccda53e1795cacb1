"""`make bench`: every scenario against its baseline from the same run, one row each.

Each scenario module of this package has `run(quick: bool) -> list[Row]`; `--quick` runs the same
code at small sizes (CI proves it still runs; its verdicts mean nothing). Results are printed as a
table and written to bench/results/<date>.json and bench/RESULTS.md (the newest full run).
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import Row

# In the order the table shows them; a scenario's module may hold several rows (P1 and P3 share an upload).
SCENARIO_MODULES = [
    "benchmarks.processing",
    "benchmarks.repush",
    "benchmarks.lists",
    "benchmarks.downloads",
    "benchmarks.matches",
    "benchmarks.push",
    "benchmarks.entries",
]
RESULTS_DIR = Path("bench/results")


def render(rows: list[Row]) -> str:
    head = "| id | scenario | ours | baseline | ratio | target | verdict |\n|---|---|---|---|---|---|---|\n"
    lines = [
        f"| {r['id']} | {r['scenario']} | {r['ours']:g} {r['unit']} | {r['baseline']:g} {r['unit']} "
        f"| {r['ratio']:.3g} | {r['target']} | {r['verdict']} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, a minute in all: proves it runs")
    parser.add_argument("--only", default="", help="comma-separated module names, e.g. lists,processing")
    args = parser.parse_args()
    wanted = {f"benchmarks.{name.strip()}" for name in args.only.split(",") if name.strip()}
    rows: list[Row] = []
    failed: list[str] = []
    started = time.perf_counter()
    for name in SCENARIO_MODULES:
        if wanted and name not in wanted:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            got = module.run(args.quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        for r in got:
            print(
                f"  {r['id']:4} ours {r['ours']:g} {r['unit']}  baseline {r['baseline']:g} {r['unit']}  "
                f"ratio {r['ratio']:.3g}  target {r['target']}  {r['verdict']}",
                file=sys.stderr,
                flush=True,
            )
        rows.extend(got)
    table = render(rows)
    print(table)
    stamp = datetime.now(UTC)
    record = {
        "date": stamp.isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "seconds": round(time.perf_counter() - started, 1),
        "rows": rows,
        "failed": failed,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    # A partial run is named by its modules, so that it never overwrites the day's full run.
    only = "-" + "-".join(sorted(n.removeprefix("benchmarks.") for n in wanted)) if wanted else ""
    suffix = only + ("-quick" if args.quick else "")
    (RESULTS_DIR / f"{stamp:%Y-%m-%d}{suffix}.json").write_text(json.dumps(record, indent=2) + "\n")
    if not args.quick and not wanted:
        Path("bench/RESULTS.md").write_text(
            f"# Benchmark results\n\n`make bench` on {stamp:%Y-%m-%d} ({record['machine']['cpus']} cores, "
            f"Python {record['machine']['python']}). Ratios are ours / baseline, both measured in the same run.\n\n"
            + table
        )
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
