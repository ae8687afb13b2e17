"""log() latency: 5 float scalars per step, 20k steps, each call timed.

    python bench/log_latency.py [--quick] [--json PATH] [--no-peers] [--peers a,b]

Budget (DESIGN.md §4): p50 ≤ 5 µs, p99 ≤ 50 µs, ≥ 50× faster than wandb. Every configuration
runs in its own fresh interpreter; repetitions are interleaved. Per call: ``perf_counter_ns``
around the call (floor-none is the timer alone). Also: loop total, flush/drain time of
``finish()``, bytes on disk per point, and every point read back from what was written.
"""

from __future__ import annotations

import sys
from typing import Any

from _adapters import ADAPTERS
from _common import (
    FULL_STEPS,
    Report,
    agg,
    fmt_mb,
    fmt_s,
    fmt_us,
    of_floor,
    parser,
    peer_configs,
    run_rounds,
    steps_for,
    table,
    times,
    verified_text,
)

FLOORS = ["floor-none", "floor-list", "floor-queue"]
OURS = ["wakelog", "wakelog-autostep"]


def plan_for(args: Any) -> dict[str, tuple[dict[str, Any], int]]:
    quick = args.quick
    plan: dict[str, tuple[dict[str, Any], int]] = {}
    for config in FLOORS:
        plan[config] = ({"task": "latency", "n": 2000 if quick else FULL_STEPS}, 1 if quick else 3)
    plan["wakelog"] = ({"task": "latency", "n": 2000 if quick else FULL_STEPS}, 1 if quick else 5)
    plan["wakelog-autostep"] = ({"task": "latency", "n": 2000 if quick else FULL_STEPS}, 1 if quick else 3)
    for config in peer_configs(args):
        n = steps_for(config, FULL_STEPS, quick, 500)
        reps = 1 if quick or config == "mlflow-sqlite" else 2
        plan[config] = ({"task": "latency", "n": n}, reps)
    return plan


def summarise(config: str, runs: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """Median (and min) over repetitions; loop and async flush extrapolated to 20k steps."""
    out: dict[str, Any] = {"n": n, "reps": len(runs)}
    for key in (
        "import_s",
        "init_s",
        "p50_us",
        "p90_us",
        "p99_us",
        "p999_us",
        "max_us",
        "mean_us",
        "loop_s",
        "flush_s",
        "bytes_per_point",
        "peak_rss_mb",
        "helpers_rss_mb",
        "first_call_us",
        "verify_s",
        "loadavg",
    ):
        out[key], out[key + "_min"] = agg(runs, key)
    scale = FULL_STEPS / n
    out["loop_20k_s"] = out["loop_s"] * scale
    out["loop_extrapolated"] = n < FULL_STEPS
    out["flush_20k_s"] = out["flush_s"] * scale if ADAPTERS[config].async_flush else out["flush_s"]
    out["flush_extrapolated"] = n < FULL_STEPS and ADAPTERS[config].async_flush
    ok = sum(1 for r in runs if r.get("verified"))
    out["verified"] = verified_text(runs)
    out["all_verified"] = ok == len(runs)
    out["late_runs"] = sum(1 for r in runs if r.get("complete_after_finish_s") is not None)
    out["verify_detail"] = [
        {k: r.get(k) for k in ("verified_rows", "verified_points", "expected_points", "verify_extra")}
        for r in runs
    ]
    return out


def print_rows(rows: dict[str, dict[str, Any]]) -> None:
    headers = [
        "config",
        "N run",
        "import",
        "init",
        "log p50",
        "p99",
        "p99.9",
        "max",
        "mean",
        "loop (20k)",
        "flush",
        "B/point",
        "peak RSS",
        "points verified",
    ]
    lines = []
    for config, r in rows.items():
        lines.append(
            [
                config,
                r["n"],
                fmt_s(r["import_s"]),
                fmt_s(r["init_s"]),
                f"{fmt_us(r['p50_us'])} ({fmt_us(r['p50_us_min'])})",
                fmt_us(r["p99_us"]),
                fmt_us(r["p999_us"]),
                fmt_us(r["max_us"]),
                fmt_us(r["mean_us"]),
                ("≈" if r["loop_extrapolated"] else "")
                + fmt_s(r["loop_20k_s"])
                + (" †" if r["loop_extrapolated"] else ""),
                ("≈" if r["flush_extrapolated"] else "")
                + fmt_s(r["flush_20k_s"])
                + (" ‡" if r["flush_extrapolated"] else ""),
                f"{r['bytes_per_point']:.0f}" if r["bytes_per_point"] else "–",
                fmt_mb(r["peak_rss_mb"])
                + (f" + helpers {fmt_mb(r['helpers_rss_mb'])}" if r["helpers_rss_mb"] else ""),
                r["verified"],
            ]
        )
    print()
    print(table(headers, lines))
    print(
        "Medians over repetitions (min in brackets). † loop total measured on fewer steps, × 20,000 / N. "
        "‡ async flush scaled linearly with the queued steps. B/point = bytes the SDK wrote for the run / "
        "(steps × 5); wakelog counts its run log."
    )
    print()


def latency_budget(
    report: Report, rows: dict[str, dict[str, Any]], what: str, key: str, budget: float
) -> None:
    """wakelog's log() ``key`` against ``budget`` µs, as a multiple of the floors, beside each peer."""
    ours = rows["wakelog"][key]
    parts = [f"wakelog log() {what} {fmt_us(ours)} — budget ≤ {fmt_us(budget)}"]
    floors, versus = {}, {}
    for floor in ("floor-queue", "floor-none"):
        if floor in rows:
            floors[floor] = f"{of_floor(ours, rows[floor][key])} ({fmt_us(rows[floor][key])})"
            parts.append(f"{of_floor(ours, rows[floor][key])} {floor} ({fmt_us(rows[floor][key])})")
    for peer in (c for c in rows if ADAPTERS[c].kind == "peer"):
        versus[peer] = f"{fmt_us(rows[peer][key])} ({times(ours, rows[peer][key])})"
        parts.append(f"{peer} {versus[peer]}")
    report.budget(
        f"log() {what}",
        ours,
        budget,
        "µs",
        " — ".join(parts),
        shown=fmt_us(ours),
        limit=f"≤ {fmt_us(budget)}",
        floors=floors,
        peers=versus,
    )


def wandb_budget(report: Report, rows: dict[str, dict[str, Any]]) -> None:
    ratio = rows["wandb-offline"]["p50_us"] / rows["wakelog"]["p50_us"]
    report.budget(
        "log() p50 vs wandb",
        50.0 / ratio,
        1.0,
        "ratio",
        f"wandb-offline log() p50 is {ratio:.0f}× wakelog's — budget ≥ 50×",
        ratio=ratio,
        shown=f"{ratio:.0f}× faster",
        limit="≥ 50×",
    )


def main() -> None:
    args = parser(__doc__.split("\n")[0]).parse_args()
    report = Report("log_latency", args)
    report.header("log() of 5 float scalars per step, explicit step, per-call perf_counter_ns")
    plan = plan_for(args)
    raw, errors = run_rounds(plan)
    rows: dict[str, dict[str, Any]] = {}
    for config, runs in raw.items():
        if runs:
            rows[config] = summarise(config, runs, plan[config][0]["n"])
    report.data["results"] = rows
    report.data["errors"] = errors
    for config, err in errors.items():
        report.note(f"{config}: FAILED — {err}")
    print_rows(rows)

    w = rows.get("wakelog")
    if w is None:
        sys.exit("wakelog did not run: " + errors.get("wakelog", "?"))
    latency_budget(report, rows, "p50", "p50_us", 5.0)
    latency_budget(report, rows, "p99", "p99_us", 50.0)
    if "wandb-offline" in rows:
        wandb_budget(report, rows)
    a = rows.get("wakelog-autostep")
    if a:
        print(f"info  wakelog log(row) without step=: p50 {fmt_us(a['p50_us'])}, p99 {fmt_us(a['p99_us'])}")
    print(
        f"info  wakelog loop total for 20k steps {fmt_s(w['loop_20k_s'])}; finish() {fmt_s(w['flush_s'])}; "
        f"{w['bytes_per_point']:.1f} bytes per point in the run log (server-store budget ≤ 16 B applies "
        "to the server, not the run log)"
    )
    report.verified(rows)
    report.finish()


if __name__ == "__main__":
    main()
