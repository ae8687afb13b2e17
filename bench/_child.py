"""One measurement in a fresh interpreter: ``python bench/_child.py SPEC_JSON``.

The parent (a benchmark script) starts one child per configuration and repetition, in an empty
working folder, with the configuration's environment already set. The child runs one task and
writes its result as JSON to ``spec["out"]`` (a file, not stdout: SDKs capture the console).

Tasks: ``latency`` (per-call log() timings), ``step`` (a ~1 ms numpy step, logged every step),
``calibrate`` (size that step), ``init`` (import + init cost), ``memory`` (RSS), ``drain``
(finish() after logging as fast as possible), ``profile`` (cProfile of one phase).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from _adapters import ADAPTERS, KEYS, Adapter, make_row

pc_ns = time.perf_counter_ns
pc = time.perf_counter
#: How long after finish() an SDK's points may keep arriving before they count as missing.
LATE_LIMIT_S = 10.0


# -- memory ------------------------------------------------------------------------------------
def proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS / VmHWM of a process in KiB (Linux)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return out


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (helpers such as wandb-core)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def helpers_rss_mb() -> float:
    return sum(proc_status(p).get("VmRSS", 0) for p in descendants(os.getpid())) / 1024


def rss_mb() -> float:
    return proc_status().get("VmRSS", 0) / 1024


def hwm_mb() -> float:
    return proc_status().get("VmHWM", 0) / 1024


# -- statistics --------------------------------------------------------------------------------
def summarise_ns(samples: list[int]) -> dict[str, float]:
    """Percentiles of nanosecond samples, in microseconds."""
    if not samples:
        return {}
    s = sorted(samples)
    n = len(s)

    def q(p: float) -> float:
        return s[min(n - 1, int(p * n))] / 1e3

    return {
        "p50_us": q(0.50),
        "p90_us": q(0.90),
        "p99_us": q(0.99),
        "p999_us": q(0.999),
        "max_us": s[-1] / 1e3,
        "mean_us": sum(s) / n / 1e3,
    }


def median(values: list[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


# -- tasks -------------------------------------------------------------------------------------
def start(adapter: Adapter, result: dict[str, Any]) -> None:
    t = pc()
    adapter.import_sdk()
    result["import_s"] = pc() - t
    t = pc()
    adapter.init()
    result["init_s"] = pc() - t


def finish_and_verify(adapter: Adapter, result: dict[str, Any], n_rows: int) -> None:
    result["rss_before_finish_mb"] = rss_mb()
    result["helpers_rss_mb"] = helpers_rss_mb()
    t = pc()
    adapter.finish()
    finished = pc()
    result["flush_s"] = finished - t
    expected = n_rows * len(KEYS)
    t = pc()
    check = adapter.verify(n_rows)
    result["verify_s"] = pc() - t
    result["complete_at_finish"] = check["rows"] == n_rows and check["points"] == expected
    # An SDK whose finish() returns before its data is on disk: look again until it is (or 10 s),
    # and record how long after finish() returned the last point appeared.
    while not (check["rows"] == n_rows and check["points"] == expected) and pc() - finished < LATE_LIMIT_S:
        time.sleep(0.02)
        check = adapter.verify(n_rows)
    if not result["complete_at_finish"]:
        result["complete_after_finish_s"] = pc() - finished
    result["verified_rows"] = check.pop("rows")
    result["verified_points"] = check.pop("points")
    result["verify_extra"] = check
    result["expected_points"] = expected
    result["verified"] = result["verified_rows"] == n_rows and result["verified_points"] == expected
    result["disk_bytes"] = adapter.disk_bytes()
    result["bytes_per_point"] = result["disk_bytes"] / max(1, n_rows * len(KEYS))
    result["peak_rss_mb"] = hwm_mb()
    extra = getattr(adapter, "extra", None)
    if extra:
        result.update(extra())


def task_latency(adapter: Adapter, spec: dict[str, Any]) -> dict[str, Any]:
    n = spec["n"]
    result: dict[str, Any] = {}
    start(adapter, result)
    log = adapter.logger()
    lat = [0] * n
    t = pc()
    if log is None:
        for i in range(n):
            row = make_row(i)
            t0 = pc_ns()
            lat[i] = pc_ns() - t0
    else:
        for i in range(n):
            row = make_row(i)
            t0 = pc_ns()
            log(row, i)
            lat[i] = pc_ns() - t0
    result["loop_s"] = pc() - t
    result.update(summarise_ns(lat))
    first = lat[: min(10, n)]
    result["first_call_us"] = first[0] / 1e3 if first else None
    finish_and_verify(adapter, result, n)
    return result


def _train_setup(size: int) -> Any:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, size)).astype(np.float32)
    w = rng.standard_normal((size, size)).astype(np.float32) * 0.01
    return np, x, w


def _train_step(np: Any, x: Any, w: Any, i: int) -> dict[str, float]:
    """A stand-in training step: a forward matmul, a backward-like matmul, five scalars."""
    h = x @ w
    g = x.T @ h
    loss = float(h.mean())
    grad_norm = float(np.abs(g).max())
    return {"loss": loss, "acc": 0.5, "lr": 0.001, "grad_norm": grad_norm, "epoch": i / 1000.0}


def task_calibrate(spec: dict[str, Any]) -> dict[str, Any]:
    np, *_ = _train_setup(8)
    target = spec.get("target_ms", 1.0)
    sizes = {}
    for size in range(128, 1025, 32):
        _, x, w = _train_setup(size)
        for i in range(20):
            _train_step(np, x, w, i)
        times = []
        for i in range(150):
            t0 = pc_ns()
            _train_step(np, x, w, i)
            times.append(pc_ns() - t0)
        sizes[size] = median(times) / 1e6
        if sizes[size] > target * 1.3:
            break
    best = min(sizes, key=lambda s: abs(sizes[s] - target))
    return {"size": best, "step_ms": sizes[best], "tried": sizes}


def task_step(adapter: Adapter, spec: dict[str, Any]) -> dict[str, Any]:
    import numpy  # noqa: F401 - the training script imports numpy first (OPENBLAS_NUM_THREADS=1 is set)

    n, warmup, size = spec["n"], spec["warmup"], spec["size"]
    np, x, w = _train_setup(size)
    result: dict[str, Any] = {"size": size}
    start(adapter, result)
    log = adapter.logger()
    step = 0
    for _ in range(warmup):  # the first log() of some SDKs costs tens of ms
        row = _train_step(np, x, w, step)
        if log is not None:
            log(row, step)
        step += 1
    step_ns, log_ns = [0] * n, [0] * n
    t = pc()
    if log is None:
        for k in range(n):
            t0 = pc_ns()
            row = _train_step(np, x, w, step)
            t1 = pc_ns()
            step_ns[k], log_ns[k] = t1 - t0, pc_ns() - t1
            step += 1
    else:
        for k in range(n):
            t0 = pc_ns()
            row = _train_step(np, x, w, step)
            t1 = pc_ns()
            log(row, step)
            t2 = pc_ns()
            step_ns[k], log_ns[k] = t2 - t0, t2 - t1
            step += 1
    loop_s = pc() - t
    result["loop_s"] = loop_s
    result["n_measured"] = n
    result["mean_step_ms"] = loop_s / n * 1e3
    result["median_step_ms"] = median(step_ns) / 1e6
    result["log"] = summarise_ns(log_ns)
    finish_and_verify(adapter, result, step)
    return result


def task_step_alternate(adapter: Adapter, spec: dict[str, Any]) -> dict[str, Any]:
    """In one process, alternate blocks of steps with and without log(): drift and process
    placement cancel out. The writer thread's work for a logged block can spill into the next
    unlogged one, so this is a lower bound next to the process-level comparison."""
    n, block, size = spec["n"], spec["block"], spec["size"]
    np, x, w = _train_setup(size)
    result: dict[str, Any] = {"size": size}
    start(adapter, result)
    log = adapter.logger()
    step = 0
    for _ in range(spec["warmup"]):
        log(_train_step(np, x, w, step), step)
        step += 1
    with_log, without = [], []
    for b in range(n // block):
        logging = b % 2 == 0
        t = pc_ns()
        for _ in range(block):
            row = _train_step(np, x, w, step)
            if logging:
                log(row, step)
            step += 1
        (with_log if logging else without).append((pc_ns() - t) / block / 1e6)
    result["block_ms_with_log"] = median(with_log)
    result["block_ms_without"] = median(without)
    result["overhead"] = result["block_ms_with_log"] / result["block_ms_without"] - 1
    result["blocks"] = len(with_log) + len(without)
    adapter.finish()
    return result


def task_init(adapter: Adapter, spec: dict[str, Any]) -> dict[str, Any]:
    before = set(sys.modules)
    result: dict[str, Any] = {}
    start(adapter, result)
    result["modules_loaded"] = len(set(sys.modules) - before)
    t = pc()
    adapter.finish()
    result["finish_s"] = pc() - t
    return result


def task_memory(adapter: Adapter, spec: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"rss_child_start_mb": rss_mb()}
    if spec.get("numpy"):
        import numpy  # noqa: F401

        result["rss_after_numpy_mb"] = rss_mb()
    adapter.import_sdk()
    result["rss_after_import_mb"] = rss_mb()
    adapter.init()
    result["rss_after_init_mb"] = rss_mb()
    log = adapter.logger()
    n = spec["n"]
    if log is not None:
        for i in range(n):
            log(make_row(i), i)
    result["rss_after_log_mb"] = rss_mb()
    result["helpers_rss_mb"] = helpers_rss_mb()
    result["peak_rss_mb"] = hwm_mb()
    adapter.finish()
    result["rss_after_finish_mb"] = rss_mb()
    result["peak_rss_after_finish_mb"] = hwm_mb()
    return result


def task_drain(adapter: Adapter, spec: dict[str, Any]) -> dict[str, Any]:
    n = spec["n"]
    result: dict[str, Any] = {}
    start(adapter, result)
    if spec.get("settle_s"):  # a real run loads data before its first step: let start-up work finish
        time.sleep(spec["settle_s"])
    log = adapter.logger()
    t = pc()
    if log is not None:
        for i in range(n):
            log(make_row(i), i)
    result["loop_s"] = pc() - t
    finish_and_verify(adapter, result, n)
    result["loop_plus_flush_s"] = result["loop_s"] + result["flush_s"]
    return result


def task_profile(adapter: Adapter, spec: dict[str, Any]) -> dict[str, Any]:
    """cProfile one phase (``log``, ``init``, ``finish``) and return the top functions."""
    import cProfile
    import io
    import pstats

    phase, n = spec["phase"], spec.get("n", 20000)
    profiler = cProfile.Profile()
    adapter.import_sdk()
    if phase == "init":
        profiler.enable()
    adapter.init()
    profiler.disable()
    log = adapter.logger()
    if phase == "log":
        profiler.enable()
    for i in range(n):
        log(make_row(i), i)
    profiler.disable()
    if phase == "finish":
        profiler.enable()
    adapter.finish()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(spec.get("sort", "tottime")).print_stats(spec.get("top", 15))
    return {"profile": out.getvalue()}


TASKS = {
    "latency": task_latency,
    "step": task_step,
    "step-alternate": task_step_alternate,
    "init": task_init,
    "memory": task_memory,
    "drain": task_drain,
    "profile": task_profile,
}


def main() -> None:
    spec = json.loads(sys.argv[1])
    if spec["task"] == "calibrate":
        result = task_calibrate(spec)
    else:
        adapter = ADAPTERS[spec["config"]](Path.cwd())
        result = TASKS[spec["task"]](adapter, spec)
    result["loadavg"] = os.getloadavg()[0]
    Path(spec["out"]).write_text(json.dumps(result), encoding="utf-8")
    sys.stdout.flush()
    os._exit(0)  # skip atexit hooks: every run is already finished, and some peers linger there


if __name__ == "__main__":
    main()
