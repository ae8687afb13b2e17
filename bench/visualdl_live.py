"""Cost of the live VisualDL bridge (``init(sync_visualdl=True)``) over VisualDL alone.

    python bench/visualdl_live.py [--quick] [--json PATH]

Budget (issue 15): ≤ 5 % over VisualDL alone on a ~1 ms training step. The step is two float32
matmuls sized to ~1 ms on one BLAS thread, then five ``LogWriter.add_scalar`` calls (loss, acc,
lr, grad_norm, samples/s), as a Paddle script that logs every step does. One process, one offline
wakelog run, one VisualDL writer: blocks of steps alternate between VisualDL patched (each call
also logged into the run) and VisualDL alone (``unpatch()``), so both arms see the same machine
load and the same writer threads. Printed per step: the mean wall time and the mean CPU time of
the whole process (VisualDL's and wakelog's writer threads included), and the slowdown of each;
``noise`` is the same slowdown between the two halves of the VisualDL-alone blocks. A tight loop
of ``add_scalar`` calls on a writer that queues everything until it closes, patched and not,
gives the bridge's own CPU cost per call (``in-call``:
five calls' worth, as a share of a step's CPU time). The exit status is 1 if the CPU-time A/B
slowdown or the in-call share is over budget; the wall-time figure is printed with its noise
(on a loaded 2-core machine it cannot resolve a few percent).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("WAKELOG_SILENT", "true")
os.environ.setdefault("WAKELOG_CONSOLE", "off")
os.environ.setdefault("WAKELOG_DISABLE_STATS", "true")

import numpy as np  # noqa: E402
from visualdl import LogWriter  # noqa: E402

import wakelog  # noqa: E402
from _common import Report, parser, table  # noqa: E402
from wakelog.integration import visualdl as bridge  # noqa: E402

BUDGET = 0.05
TAGS = ("train/loss", "train/acc", "train/lr", "train/grad_norm", "train/samples_per_sec")
BLOCK = 50  # steps per block; blocks alternate between the arms


def calibrate(target_s: float = 1e-3) -> tuple[int, float]:
    """The matrix size whose step (two 64×n @ n×n matmuls) takes ~``target_s`` of CPU time (the
    best of several tries per size: other jobs on the machine only ever add to it)."""
    size = 64
    while True:
        a = np.ones((64, size), np.float32)
        b = np.ones((size, size), np.float32)
        tries = []
        for _ in range(5):
            start = time.process_time()
            for _ in range(20):
                (a @ b) @ b
            tries.append((time.process_time() - start) / 20)
        step = min(tries)
        if step >= target_s or size >= 4096:
            return size, step
        size = int(size * max(1.05, min(2.0, (target_s / max(step, 1e-6)) ** 0.5)))


def block(writer: LogWriter, a: np.ndarray, b: np.ndarray, first: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``BLOCK`` training steps starting at step ``first``."""
    wall, cpu = time.perf_counter(), time.process_time()
    for step in range(first, first + BLOCK):
        out = (a @ b) @ b
        loss = float(out[0, 0]) * 1e-9 + 1.0 / (step + 1)
        for i, tag in enumerate(TAGS):
            writer.add_scalar(tag, loss * (i + 1), step)
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(blocks: int, size: int, logdir: Path) -> dict[str, list[tuple[float, float]]]:
    a = np.random.default_rng(0).standard_normal((64, size)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((size, size)).astype(np.float32) / size
    arms: dict[str, list[tuple[float, float]]] = {"visualdl": [], "visualdl+wakelog": []}
    run = wakelog.init(mode="offline", dir=str(logdir), project="bench-visualdl")
    writer = LogWriter(logdir=str(logdir / "vdl"))
    step = 0
    for index in range(blocks * 2 + 2):
        patched = index % 2 == 1
        if patched:
            bridge.patch()
        timing = block(writer, a, b, step)
        step += BLOCK
        if patched:
            bridge.unpatch()
        if index >= 2:  # the first pair warms both arms up
            arms["visualdl+wakelog" if patched else "visualdl"].append(timing)
    writer.close()
    run.finish()
    return arms


def per_call(logdir: Path, calls: int, rounds: int) -> tuple[float, float]:
    """CPU seconds of one ``add_scalar`` call, VisualDL alone and patched (medians over rounds
    that alternate), in a tight loop inside one run. The writer's queue holds every record until
    the end (VisualDL's default of 10 makes each call wait for its writer thread), so that
    thread does not blur the bridge's own cost."""
    run = wakelog.init(mode="offline", dir=str(logdir), project="bench-visualdl")
    writer = LogWriter(logdir=str(logdir / "vdl-calls"), max_queue=2 * calls * rounds, flush_secs=3600)
    alone, patched = [], []
    for r in range(rounds):
        for arm in (alone, patched):
            if arm is patched:
                bridge.patch()
            start = time.process_time()
            for i in range(calls):
                writer.add_scalar(TAGS[i % len(TAGS)], 0.5, r * calls + i // len(TAGS))
            arm.append((time.process_time() - start) / calls)
            if arm is patched:
                bridge.unpatch()
    writer.close()
    run.finish()
    return statistics.median(alone), statistics.median(patched)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    report = Report("visualdl_live", args)
    report.header("the live VisualDL bridge on a 1 ms step, 5 add_scalar calls per step")
    size, step_s = calibrate()
    print(f"calibrated step: two matmuls (64×{size} @ {size}×{size}), ≈{step_s * 1e3:.3f} ms\n")
    blocks = 20 if args.quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        arms = measure(blocks, size, Path(tmp))
        alone_call, patched_call = per_call(Path(tmp), 2000 if args.quick else 20000, 5)
    base = arms["visualdl"]
    rows, figures = [], {}
    for arm, timings in arms.items():
        wall = statistics.fmean(t[0] for t in timings) / BLOCK
        cpu = statistics.fmean(t[1] for t in timings) / BLOCK
        figures[arm] = (wall, cpu)
    half = len(base) // 2
    noise = [
        abs(statistics.fmean(t[k] for t in base[:half]) / statistics.fmean(t[k] for t in base[half:]) - 1)
        for k in (0, 1)
    ]
    slow = [figures["visualdl+wakelog"][k] / figures["visualdl"][k] - 1 for k in (0, 1)]
    for arm, (wall, cpu) in figures.items():
        rows.append([arm, f"{wall * 1e6:.1f} µs", f"{cpu * 1e6:.1f} µs"])
    print(table(["arm", "wall per step", "CPU per step"], rows))
    in_call = (patched_call - alone_call) * len(TAGS) / figures["visualdl"][1]
    print(
        f"\nper add_scalar call (CPU, tight loop): VisualDL {alone_call * 1e6:.1f} µs, patched "
        f"{patched_call * 1e6:.1f} µs (+{(patched_call - alone_call) * 1e6:.1f} µs)\n"
    )
    report.data["results"] = {
        "step_ms": step_s * 1e3,
        "arms": {k: {"wall_s": v[0], "cpu_s": v[1]} for k, v in figures.items()},
        "noise": noise,
        "per_call_s": {"visualdl": alone_call, "visualdl+wakelog": patched_call},
    }
    report.budget(
        "in-call",
        in_call,
        BUDGET,
        "ratio",
        f"in the calls: +{in_call * 100:.2f} % of a step's CPU time (budget {BUDGET * 100:.0f} %)",
    )
    for k, what in enumerate(("wall", "CPU")):
        report.budget(
            f"{what} slowdown",
            slow[k],
            BUDGET,
            "ratio",
            f"{what} time: +{slow[k] * 100:.2f} % over VisualDL alone (budget {BUDGET * 100:.0f} %, "
            f"noise {noise[k] * 100:.2f} %)",
        )
    report.finish()
    sys.exit(0 if slow[1] <= BUDGET and in_call <= BUDGET else 1)


if __name__ == "__main__":
    main()
