"""Drain: how long ``finish()`` takes after 20k steps × 5 keys logged as fast as possible.

    python bench/drain.py [--quick] [--json PATH] [--no-peers] [--peers a,b]

Budget (DESIGN.md §4): ≤ 1 s from ``finish()`` until the points are queryable on the server
(online). This script measures the offline variant, the SDK's own part of that path: from the
``finish()`` call until it returns with every point framed, written and fsynced in the run log
(checked by reading them back). The online variant, against a real ``wakelog server``, belongs
with the server benchmarks (``bench/server_ingest.py``).
For synchronous peers (their ``log()`` already wrote each point) the loop is the cost, so the
table also shows loop + finish.
"""

from __future__ import annotations

import sys
from typing import Any

from _adapters import ADAPTERS
from _common import (
    FULL_STEPS,
    Report,
    agg,
    fmt_s,
    of_floor,
    parser,
    peer_configs,
    run_rounds,
    steps_for,
    table,
    times,
    verified_text,
)

#: wakelog again, logging 2 s after init(): a real run loads data before its first step, and by then
#: the metadata capture started by init() (a background thread: git, packages) has finished.
SETTLED = "wakelog-settled"


def summarise(config: str, runs: list[dict[str, Any]], spec: dict[str, Any]) -> dict[str, Any]:
    """Medians over repetitions; loop and async drains extrapolated to 20k steps."""
    steps = spec["n"]
    adapter = ADAPTERS[spec.get("config", config)]
    scale = FULL_STEPS / steps
    flush, flush_min = agg(runs, "flush_s")
    loop, _ = agg(runs, "loop_s")
    extrapolate_flush = steps < FULL_STEPS and adapter.async_flush
    ok = sum(1 for r in runs if r.get("verified"))
    row = {
        "n": steps,
        "reps": len(runs),
        "flush_s": flush,
        "flush_min_s": flush_min,
        "flush_20k_s": flush * scale if extrapolate_flush else flush,
        "flush_extrapolated": extrapolate_flush,
        "loop_20k_s": loop * scale,
        "loop_extrapolated": steps < FULL_STEPS,
        "verified": verified_text(runs),
        "all_verified": ok == len(runs),
        "late_runs": sum(1 for r in runs if r.get("complete_after_finish_s") is not None),
    }
    row["total_20k_s"] = row["loop_20k_s"] + row["flush_20k_s"]
    return row


def mark(value: float, extrapolated: bool, sign: str) -> str:
    return ("≈" if extrapolated else "") + fmt_s(value) + (f" {sign}" if extrapolated else "")


def print_rows(rows: dict[str, dict[str, Any]]) -> None:
    print(
        table(
            [
                "config",
                "N run",
                "reps",
                "finish() median (min)",
                "finish() for 20k",
                "loop for 20k",
                "loop + finish",
                "points verified",
            ],
            [
                [
                    c,
                    r["n"],
                    r["reps"],
                    f"{fmt_s(r['flush_s'])} ({fmt_s(r['flush_min_s'])})",
                    mark(r["flush_20k_s"], r["flush_extrapolated"], "‡"),
                    mark(r["loop_20k_s"], r["loop_extrapolated"], "†"),
                    mark(r["total_20k_s"], r["loop_extrapolated"], "†"),
                    r["verified"],
                ]
                for c, r in rows.items()
            ],
        )
    )
    print(
        "† measured on N steps, × 20,000 / N. "
        "‡ an async queue's drain, scaled linearly with the queued steps."
    )


def drain_budget(report: Report, rows: dict[str, dict[str, Any]], n: int) -> None:
    w = rows["wakelog"]
    parts = [
        f"wakelog finish() after {n // 1000}k×5 points {fmt_s(w['flush_s'])} (offline: run log written, "
        "fsynced, read back) — budget ≤ 1 s (online, queryable on the server: not measured here, "
        "see bench/server_ingest.py)"
    ]
    floors, versus = {}, {}
    if SETTLED in rows:
        parts.append(f"{fmt_s(rows[SETTLED]['flush_s'])} when logging starts 2 s after init()")
    if "floor-queue" in rows:
        fq = rows["floor-queue"]["flush_s"]
        floors["floor-queue"] = f"{of_floor(w['flush_s'], fq)} ({fmt_s(fq)})"
        parts.append(f"{of_floor(w['flush_s'], fq)} floor-queue ({fmt_s(fq)})")
    for config, r in rows.items():
        if config in ADAPTERS and ADAPTERS[config].kind == "peer":
            flush = mark(r["flush_20k_s"], r["flush_extrapolated"], "‡")
            total = mark(r["total_20k_s"], r["loop_extrapolated"], "†")
            versus[config] = f"{flush} ({times(w['flush_s'], r['flush_20k_s'])}); with loop {total}"
            parts.append(f"{config} {versus[config]}")
    parts.append(f"wakelog loop+finish {fmt_s(w['total_20k_s'])}")
    report.budget(
        "drain after finish() (offline)",
        w["flush_s"],
        1.0,
        "s",
        " — ".join(parts),
        shown=fmt_s(w["flush_s"]),
        limit="≤ 1 s (online; offline shown)",
        floors=floors,
        peers=versus,
    )


def main() -> None:
    args = parser(__doc__.split("\n")[0]).parse_args()
    report = Report("drain", args)
    report.header("finish() after 20k steps × 5 keys logged as fast as possible (offline)")
    quick = args.quick
    n = 2000 if quick else FULL_STEPS
    plan: dict[str, tuple[dict[str, Any], int]] = {
        "wakelog": ({"task": "drain", "n": n}, 1 if quick else 5),
        SETTLED: ({"task": "drain", "n": n, "config": "wakelog", "settle_s": 2.0}, 1 if quick else 3),
        "floor-queue": ({"task": "drain", "n": n}, 1 if quick else 3),
    }
    for config in peer_configs(args):
        plan[config] = ({"task": "drain", "n": steps_for(config, FULL_STEPS, quick, 500)}, 1)
    raw, errors = run_rounds(plan)
    for config, err in errors.items():
        report.note(f"{config}: FAILED — {err}")
    rows = {config: summarise(config, runs, plan[config][0]) for config, runs in raw.items() if runs}
    report.data["results"] = rows
    report.data["errors"] = errors

    print()
    print_rows(rows)
    print()
    if "wakelog" not in rows:
        sys.exit("wakelog did not run: " + errors.get("wakelog", "?"))
    drain_budget(report, rows, n)
    report.verified(rows)
    report.finish()


if __name__ == "__main__":
    main()
