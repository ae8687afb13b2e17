"""Overhead of logging every step of a ~1 ms numpy training step.

    python bench/step_overhead.py [--quick] [--json PATH] [--no-peers] [--peers a,b]

Budget (DESIGN.md §4): ≤ 3 % slowdown. The step is two float32 matmuls sized (by a calibration
child) to ~1 ms on one BLAS thread (``OPENBLAS_NUM_THREADS=1`` and friends are set in the child's
environment, so before numpy is imported), plus five Python floats. Each configuration runs the
same steps in fresh interpreters; repetitions alternate between configurations (ABAB…), and the
slowdown is the median of the per-run mean step time against the no-logging baseline
(floor-none). A second, in-process check alternates blocks of steps with and without ``log()``
inside one wakelog run, which cancels drift between processes.
"""

from __future__ import annotations

import sys
from typing import Any

from _adapters import ADAPTERS
from _common import (
    Report,
    agg,
    fmt_s,
    fmt_us,
    median,
    parser,
    peer_configs,
    run_child,
    run_rounds,
    table,
    verified_text,
)

ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
STEPS, QUICK_STEPS = 3000, 300
#: Fewer steps for peers whose log() costs several ms (their per-step time is what is compared).
PEER_STEPS = {"mlflow-sqlite": 500, "mlflow-file": 1500, "aim": 1500, "aim-trackthread": 1500}


def calibrate(report: Report) -> int:
    """The matrix size that makes one training step take ~1 ms on one BLAS thread."""
    cal = run_child({"task": "calibrate", "target_ms": 1.0}, env=ONE_THREAD)
    size = cal["size"]
    print(
        f"calibrated step: two matmuls (64×{size} @ {size}×{size}), ≈{cal['step_ms']:.3f} ms median on one "
        "BLAS thread",
        flush=True,
    )
    report.data["calibration"] = cal
    return int(size)


def step_plan(args: Any, spec: dict[str, Any]) -> dict[str, tuple[dict[str, Any], int]]:
    quick, n = args.quick, spec["n"]
    plan: dict[str, tuple[dict[str, Any], int]] = {
        "floor-none": (spec, 2 if quick else 8),
        "wakelog": (spec, 2 if quick else 8),
        "floor-queue": (spec, 1 if quick else 4),
    }
    for config in peer_configs(args):
        cap = PEER_STEPS.get(config)
        steps = n if cap is None else min(n, cap // 5 if quick else cap)
        plan[config] = ({**spec, "n": steps}, 1 if quick else 2)
    return plan


def summarise(runs: list[dict[str, Any]], base_med: float, base_min: float) -> dict[str, Any]:
    """One configuration's runs: step times (median and min), slowdown against the baseline, log() cost."""
    med, mn = agg(runs, "mean_step_ms")
    per_step_med, _ = agg(runs, "median_step_ms")
    ok = sum(1 for r in runs if r.get("verified"))
    return {
        "n": runs[0]["n_measured"],
        "reps": len(runs),
        "mean_step_ms": med,
        "mean_step_ms_min": mn,
        "median_step_ms": per_step_med,
        "slowdown_median": med / base_med - 1,
        "slowdown_min": mn / base_min - 1,
        "log_p50_us": median(r["log"]["p50_us"] for r in runs),
        "log_p99_us": median(r["log"]["p99_us"] for r in runs),
        "flush_s": median(r["flush_s"] for r in runs),
        "verified": verified_text(runs),
        "all_verified": ok == len(runs),
        "late_runs": sum(1 for r in runs if r.get("complete_after_finish_s") is not None),
        "per_run_mean_step_ms": [r["mean_step_ms"] for r in runs],
    }


def alternate(alt_spec: dict[str, Any], reps: int) -> list[dict[str, Any]]:
    """In-process check: blocks of steps with and without log() inside one wakelog run."""
    alt_runs = []
    for rep in range(reps):
        print(f"  … wakelog (in-process alternation, rep {rep + 1})", file=sys.stderr, flush=True)
        alt_runs.append(run_child(alt_spec, env=ONE_THREAD))
    return alt_runs


def print_rows(rows: dict[str, dict[str, Any]]) -> None:
    headers = [
        "config",
        "N run",
        "reps",
        "step+log ms, median (min)",
        "slowdown, median-based",
        "min-based",
        "per-step median ms",
        "log p50",
        "log p99",
        "flush",
        "points verified",
    ]
    lines = [
        [
            c,
            r["n"],
            r["reps"],
            f"{r['mean_step_ms']:.3f} ({r['mean_step_ms_min']:.3f})",
            f"{r['slowdown_median'] * 100:+.1f} %",
            f"{r['slowdown_min'] * 100:+.1f} %",
            f"{r['median_step_ms']:.3f}",
            fmt_us(r["log_p50_us"]),
            fmt_us(r["log_p99_us"]),
            fmt_s(r["flush_s"]),
            r["verified"],
        ]
        for c, r in rows.items()
    ]
    print(table(headers, lines))
    print(
        "step+log = loop time / steps (every cost, amortised: log(), writer-thread contention, GC); "
        "medians over runs, min in brackets."
    )


def overhead_budget(report: Report, rows: dict[str, dict[str, Any]], base_med: float, spread: float) -> None:
    w = rows["wakelog"]
    parts = [
        f"wakelog overhead on a {base_med:.2f} ms step {w['slowdown_median'] * 100:+.1f} % (median-based; "
        f"min-based {w['slowdown_min'] * 100:+.1f} %) — budget ≤ 3 %"
    ]
    floors, versus = {}, {}
    if "floor-queue" in rows:
        floors["floor-queue"] = f"{rows['floor-queue']['slowdown_median'] * 100:+.1f} %"
        parts.append(f"floor-queue {floors['floor-queue']}")
    if "alternate_overhead" in report.data:
        parts.append(f"in-process alternation {report.data['alternate_overhead'] * 100:+.2f} %")
    parts.append(f"noise: baseline runs spread {spread * 100:.1f} %")
    for config, r in rows.items():
        if ADAPTERS[config].kind == "peer":
            versus[config] = f"{r['slowdown_median'] * 100:+.0f} %"
            parts.append(f"{config} {versus[config]}")
    report.budget(
        "overhead on a 1 ms step",
        w["slowdown_median"] * 100,
        3.0,
        "%",
        " — ".join(parts),
        shown=f"{w['slowdown_median'] * 100:+.1f} %",
        limit="≤ 3 %",
        floors=floors,
        peers=versus,
    )


def main() -> None:
    args = parser(__doc__.split("\n")[0]).parse_args()
    report = Report("step_overhead", args)
    report.header("logging 5 scalars every step of a ~1 ms numpy training step")
    quick = args.quick

    size = calibrate(report)
    warmup = 50 if quick else 200
    spec = {"task": "step", "size": size, "warmup": warmup, "n": QUICK_STEPS if quick else STEPS}
    raw, errors = run_rounds(step_plan(args, spec), env=ONE_THREAD)
    for config, err in errors.items():
        report.note(f"{config}: FAILED — {err}")
    if "floor-none" not in raw or not raw["floor-none"]:
        sys.exit("the baseline (floor-none) did not run")

    base_runs = raw["floor-none"]
    base_med, base_min = agg(base_runs, "mean_step_ms")
    spread = (max(r["mean_step_ms"] for r in base_runs) - base_min) / base_med if len(base_runs) > 1 else 0.0
    rows = {config: summarise(runs, base_med, base_min) for config, runs in raw.items() if runs}

    alt_spec = {
        "task": "step-alternate",
        "config": "wakelog",
        "size": size,
        "warmup": warmup,
        "n": 800 if quick else 4000,
        "block": 100 if quick else 200,
    }
    alt_runs = alternate(alt_spec, 1 if quick else 3) if "wakelog" in rows else []
    report.data["results"] = rows
    report.data["alternate"] = alt_runs
    report.data["baseline"] = {"median_ms": base_med, "min_ms": base_min, "spread": spread}
    report.data["errors"] = errors

    print()
    print(
        f"Baseline (floor-none, train step only, {len(base_runs)} runs): median {base_med:.3f} ms/step, "
        f"min {base_min:.3f} ms/step; run-to-run spread {spread * 100:.1f} % of the median."
    )
    print_rows(rows)
    if alt_runs:
        alt = median(r["overhead"] for r in alt_runs)
        each = ", ".join(f"{r['overhead'] * 100:+.2f} %" for r in alt_runs)
        print(
            f"In-process alternation (wakelog, blocks of {alt_spec['block']} steps with/without log(), "
            f"{len(alt_runs)} runs): {alt * 100:+.2f} % ({each})"
        )
        report.data["alternate_overhead"] = alt
    print()

    if "wakelog" not in rows:
        sys.exit("wakelog did not run: " + errors.get("wakelog", "?"))
    overhead_budget(report, rows, base_med, spread)
    report.verified(rows)
    if spread > 0.10:
        print(
            f"WARNING: the baseline's runs differ by {spread * 100:.0f} % between themselves, more than the "
            "3 % budget: the machine is too noisy to judge this budget; rerun on an idle machine"
        )
    report.finish()


if __name__ == "__main__":
    main()
