"""Run every benchmark and print one table of wakelog against its budgets, floors and peers.

    python bench/run_all.py [--quick] [--json PATH] [--no-peers] [--peers a,b] [--only a,b]

Run it with ``bench/.venv-peers/bin/python`` to include the peers (see docs/benchmarks.md), or
with the project venv for wakelog and the floors only. Each benchmark runs as its own process
with this interpreter and prints its own tables first; the summary comes last.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _adapters import ADAPTERS
from _common import BENCH, parser, table

BENCHMARKS = ["log_latency", "step_overhead", "startup", "drain", "web_memory", "wandb_client"]


def run_benchmarks(names: list[str], passthrough: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Each benchmark in its own process; the JSON reports of those that ran, and the names that failed."""
    results, failed = {}, []
    with tempfile.TemporaryDirectory(prefix="wakelog-bench-") as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            print(f"\n{'=' * 100}", flush=True)
            proc = subprocess.run(
                [sys.executable, str(BENCH / f"{name}.py"), *passthrough, "--json", str(out)], check=False
            )
            if proc.returncode != 0 or not out.exists():
                failed.append(name)
                continue
            results[name] = json.loads(out.read_text(encoding="utf-8"))
    return results, failed


def summary_rows(results: dict[str, Any]) -> tuple[list[list[Any]], list[str]]:
    """One row per budget; one column per floor or peer, floors first, then peers in ADAPTERS' order."""
    rows, columns = [], []
    for data in results.values():
        for b in data["budgets"]:
            for name in [*(b.get("floors") or {}), *(b.get("peers") or {})]:
                if name not in columns:
                    columns.append(name)
    for name, data in results.items():
        for b in data["budgets"]:
            cells = {**(b.get("floors") or {}), **(b.get("peers") or {})}
            rows.append(
                [
                    name,
                    b["what"],
                    b.get("shown", f"{b['value']:.3g} {b['unit']}"),
                    b.get("limit", f"≤ {b['budget']}"),
                    "PASS" if b["ok"] else "MISS",
                    *(cells.get(c, "") for c in columns),
                ]
            )
    known = ["floor-queue", "floor-none", *ADAPTERS]
    order = sorted(columns, key=lambda c: known.index(c) if c in known else len(known))
    rows = [[*r[:5], *(r[5 + columns.index(c)] for c in order)] for r in rows]
    return rows, order


def print_summary(results: dict[str, Any], failed: list[str], quick: bool, elapsed: float) -> None:
    rows, columns = summary_rows(results)
    print(f"\n{'=' * 100}\n# Summary — wakelog against its budgets (DESIGN.md §4), floors and peers")
    any_data = next(iter(results.values()), None)
    if any_data:
        m = any_data["machine"]
        print(
            f"{any_data['date']} · {m['cpu']} · {m['cores']} cores · Python {m['python']} · "
            f"{'quick' if quick else 'full'} mode · {elapsed:.0f} s in all"
        )
    print(table(["benchmark", "budget", "wakelog", "limit", "", *columns], rows))
    print(
        "Floor columns: wakelog as a multiple of the floor (the floor's own figure in brackets). "
        "Peer columns: the peer's figure, and how it compares with wakelog's. "
        "Details and footnotes (†, ‡) in each benchmark's output above."
    )
    busy = [f"{name} (load {d['load_during'][1]:.1f})" for name, d in results.items() if d.get("busy")]
    if busy:
        print("\nWARNING: the machine was busy during " + ", ".join(busy) + ": those figures are noisy.")
    missed = [f"{r[0]}: {r[1]}" for r in rows if r[4] == "MISS"]
    if missed:
        print("\nMISSED: " + "; ".join(missed))
    if failed:
        print("\nFAILED to run: " + ", ".join(failed))


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--only", metavar="A,B", help=f"run only these of: {', '.join(BENCHMARKS)}")
    args = p.parse_args()
    names = args.only.split(",") if args.only else BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}")
    passthrough = [
        *(["--quick"] if args.quick else []),
        *(["--no-peers"] if args.no_peers else []),
        *(["--peers", args.peers] if args.peers else []),
    ]
    started = time.time()
    results, failed = run_benchmarks(names, passthrough)
    elapsed = time.time() - started
    print_summary(results, failed, args.quick, elapsed)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"elapsed_s": elapsed, "benchmarks": results, "failed": failed}, indent=1, default=str
            ),
            encoding="utf-8",
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
