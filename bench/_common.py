"""What every benchmark script shares: arguments, child processes, statistics, ratios, output.

The parent side imports only the standard library (and ``_adapters``, which imports no SDK), so
the scripts run from any interpreter: the project venv (wakelog and the floors only) or
``bench/.venv-peers`` (wakelog, the floors and every peer installed there).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from _adapters import ADAPTERS, PEERS, SKIPPED_PEERS

BENCH = Path(__file__).resolve().parent
CHILD = BENCH / "_child.py"
FULL_STEPS = 20_000
#: The 1-minute load average seen by every child, to flag runs on a busy machine.
LOADS: list[float] = []
#: Above this load (per core) the figures are flagged: other work competed for the CPUs. One
#: benchmark child keeps about one core busy, so an otherwise idle 2-core machine reads 1-2.
BUSY_LOAD_PER_CORE = 1.25


# -- arguments ---------------------------------------------------------------------------------
def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="smoke mode: small N, fewer repetitions")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    p.add_argument("--no-peers", action="store_true", help="measure wakelog and the floors only")
    p.add_argument("--peers", metavar="A,B", help="only these peer configurations (default: all importable)")
    return p


# -- configurations ----------------------------------------------------------------------------
def available(config: str) -> bool:
    module = ADAPTERS[config].module
    return module is None or importlib.util.find_spec(module) is not None


def peer_configs(args: argparse.Namespace) -> list[str]:
    if args.no_peers:
        return []
    wanted = args.peers.split(",") if args.peers else PEERS
    unknown = [c for c in wanted if c not in ADAPTERS]
    if unknown:
        sys.exit(f"unknown configuration(s): {', '.join(unknown)}; known: {', '.join(PEERS)}")
    return [c for c in wanted if available(c)]


def missing_peers(args: argparse.Namespace) -> list[str]:
    if args.no_peers:
        return []
    return [c for c in PEERS if not available(c)]


def steps_for(config: str, full: int, quick: bool, quick_steps: int) -> int:
    """Steps to run: ``full`` unless the configuration is capped (then extrapolated)."""
    cap = ADAPTERS[config].max_steps
    if quick:
        return min(quick_steps, cap // 5) if cap else quick_steps
    return min(full, cap) if cap else full


# -- children ----------------------------------------------------------------------------------
class ChildError(RuntimeError):
    pass


def run_child(
    spec: dict[str, Any], *, timeout: float = 600, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one task in a fresh interpreter, in an empty folder; return its JSON result."""
    config = spec.get("config")
    child_env = dict(os.environ)
    for name in list(child_env):  # settings of one SDK must not leak into another's run
        if name.startswith(("WANDB_", "WAKELOG_", "MLFLOW_", "AIM_", "__AIM_")):
            del child_env[name]
    if config:
        child_env.update(ADAPTERS[config].env)
    child_env.update(env or {})
    workdir = Path(tempfile.mkdtemp(prefix=f"wakelog-bench-{config or spec['task']}-"))
    out = workdir.parent / (workdir.name + ".result.json")
    spec = {**spec, "out": str(out)}
    try:
        proc = subprocess.run(
            [sys.executable, str(CHILD), json.dumps(spec)],
            check=False,
            cwd=workdir,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-15:]
            raise ChildError(
                f"{config or spec['task']} ({spec['task']}) failed, rc={proc.returncode}:\n    "
                + "\n    ".join(tail)
            )
        result = json.loads(out.read_text(encoding="utf-8"))
        if "loadavg" in result:
            LOADS.append(result["loadavg"])
        return result
    except subprocess.TimeoutExpired as exc:
        raise ChildError(f"{config} ({spec['task']}) timed out after {timeout} s") from exc
    finally:
        out.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


def run_rounds(
    plan: dict[str, tuple[dict[str, Any], int]],
    *,
    timeout: float = 600,
    env: dict[str, str] | None = None,
    progress: bool = True,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Run every configuration's repetitions interleaved: round r runs each configuration that
    still needs a repetition, in an order rotated by r, so drift on a noisy machine spreads over
    all of them instead of landing on one. ``plan`` maps config -> (child spec, repetitions).

    Returns (results per configuration, errors per configuration); a failing configuration is
    reported and dropped, the others go on."""
    results: dict[str, list[dict[str, Any]]] = {c: [] for c in plan}
    errors: dict[str, str] = {}
    order = list(plan)
    rounds = max((reps for _, reps in plan.values()), default=0)
    for r in range(rounds):
        shift = r % len(order)
        for config in order[shift:] + order[:shift]:
            spec, reps = plan[config]
            if config in errors or len(results[config]) >= reps:
                continue
            if progress:
                print(
                    f"  … {config} ({spec['task']}, rep {len(results[config]) + 1}/{reps})",
                    file=sys.stderr,
                    flush=True,
                )
            try:
                results[config].append(run_child({"config": config, **spec}, timeout=timeout, env=env))
            except ChildError as exc:
                errors[config] = str(exc)
                print(f"  ! {exc}", file=sys.stderr, flush=True)
    return results, errors


def wall_of(code: str, env: dict[str, str] | None = None) -> float:
    """Wall time of ``python -c code`` in a fresh interpreter, in seconds."""
    child_env = {**os.environ, **(env or {})}
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env=child_env,
        cwd=tempfile.gettempdir(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t


def output_of(code: str, env: dict[str, str] | None = None) -> str:
    child_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env=child_env,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    ).stdout


# -- statistics --------------------------------------------------------------------------------
def median(values: Iterable[float]) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def median_ms(call: Callable[[], Any], repeat: int) -> float:
    """The median wall time of ``repeat`` calls, in ms, after one warm-up call."""
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def verified_text(runs: Sequence[dict[str, Any]]) -> str:
    """ "yes, 20000×5 in 3/3": how many repetitions had every point read back."""
    ok = sum(1 for r in runs if r.get("verified"))
    text = f"{'yes' if ok == len(runs) else 'NO'}, {runs[0]['verified_rows']}×5 in {ok}/{len(runs)}"
    late = [r["complete_after_finish_s"] for r in runs if r.get("complete_after_finish_s") is not None]
    if late:
        text += f" ({len(late)} of them complete only {fmt_s(max(late))} after finish() returned)"
    return text


def agg(results: Sequence[dict[str, Any]], key: str) -> tuple[float, float]:
    """(median, min) of ``key`` over repetitions."""
    values = [r[key] for r in results if r.get(key) is not None]
    return (median(values), min(values)) if values else (float("nan"), float("nan"))


# -- formatting --------------------------------------------------------------------------------
def fmt_us(us: float) -> str:
    """A duration given in microseconds, in the unit that reads best."""
    if math.isnan(us):
        return "–"
    if us < 10:
        return f"{us:.2f} µs"
    if us < 1000:
        return f"{us:.0f} µs" if us >= 100 else f"{us:.1f} µs"
    if us < 1e6:
        ms = us / 1e3
        return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"
    return f"{us / 1e6:.2f} s"


def fmt_s(seconds: float) -> str:
    return fmt_us(seconds * 1e6)


def fmt_mb(mb: float) -> str:
    return f"{mb:.1f} MB"


def times(ours: float, theirs: float) -> str:
    """``theirs`` relative to ``ours``: "148× slower" or "2.0× faster"."""
    if not ours or math.isnan(ours) or math.isnan(theirs):
        return "–"
    r = theirs / ours
    if r >= 1:
        return f"{r:.0f}× slower" if r >= 20 else f"{r:.1f}× slower"
    return f"{1 / r:.1f}× faster"


def of_floor(ours: float, floor: float) -> str:
    """``ours`` as a multiple of a floor: "11× floor-queue"."""
    if not floor or math.isnan(floor) or math.isnan(ours):
        return "–"
    r = ours / floor
    return f"{r:.0f}×" if r >= 20 else f"{r:.1f}×"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (readable as plain text too)."""
    cells = [[str(c) for c in headers]] + [[("–" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(row)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def verdict(value: float, budget: float) -> str:
    return "PASS" if value <= budget else "MISS"


# -- the record --------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    found = {}
    for dist in ("wakelog", "wandb", "mlflow", "aim", "visualdl", "numpy", "msgspec"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            mem_gb = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "executable": sys.executable,
    }


class Report:
    """Collects a benchmark's budget lines and tables, prints them, and writes the JSON."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name, self.args = name, args
        self.started = time.time()
        self.data: dict[str, Any] = {
            "benchmark": name,
            "mode": "quick" if args.quick else "full",
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": machine(),
            "versions": versions(),
            "loadavg_start": os.getloadavg(),
            "budgets": [],
            "results": {},
            "notes": [],
        }

    def header(self, what: str) -> None:
        m = self.data["machine"]
        print(f"# {self.name} — {what}")
        print(
            f"{self.data['date']} · {m['cpu']} · {m['cores']} cores · Python {m['python']} · "
            f"{'quick' if self.args.quick else 'full'} mode · load {os.getloadavg()[0]:.2f}"
        )
        v = self.data["versions"]
        print("versions: " + ", ".join(f"{k} {v[k]}" for k in v))
        missing = missing_peers(self.args)
        if missing:
            print(f"peers not importable in {sys.executable} (skipped): {', '.join(missing)}")
            self.data["notes"].append(f"not importable, skipped: {', '.join(missing)}")
        for peer, why in SKIPPED_PEERS.items():
            if not self.args.no_peers:
                print(f"{peer}: {why}")
        print()

    def budget(
        self,
        what: str,
        value: float,
        budget: float,
        unit: str,
        line: str,
        at_least: bool = False,
        **extra: Any,
    ) -> None:
        """One budget check, a ceiling (``at_least``: a floor, as for a throughput); ``line`` is the
        printed headline (figure, budget, floors, peers)."""
        ok = value >= budget if at_least else value <= budget
        self.data["budgets"].append(
            {"what": what, "value": value, "budget": budget, "unit": unit, "ok": ok, "line": line, **extra}
        )
        print(f"{'PASS' if ok else 'MISS'}  {line}")

    def verified(self, rows: dict[str, dict[str, Any]]) -> None:
        """The read-back check: every configuration's points were all found where it wrote them."""
        # wakelog's finish() promises the points are on disk when it returns: late counts as missing.
        bad = [
            c
            for c, r in rows.items()
            if not r["all_verified"] or (c.startswith("wakelog") and r.get("late_runs"))
        ]
        late = [
            f"{c} ({r['late_runs']}/{r.get('reps', '?')} runs)" for c, r in rows.items() if r.get("late_runs")
        ]
        if late:
            self.note("not all on disk when finish() returned (they arrived later): " + ", ".join(late))
        where = "all configurations" if not bad else "NOT for " + ", ".join(bad)
        shown = "all" if not bad else "missing: " + ", ".join(bad)
        self.budget(
            "points verified",
            float(len(bad)),
            0.0,
            "configs",
            "every point read back: " + where,
            shown=shown,
            limit="all",
        )

    def note(self, text: str) -> None:
        self.data["notes"].append(text)
        print(text)

    def finish(self) -> None:
        self.data["elapsed_s"] = time.time() - self.started
        self.data["loadavg_end"] = os.getloadavg()
        cores = os.cpu_count() or 1
        if LOADS:
            low, high = min(LOADS), max(LOADS)
            self.data["load_during"] = [low, high]
            self.data["busy"] = high > BUSY_LOAD_PER_CORE * cores
            print(f"\nload average (1 min) seen by the children: {low:.1f}–{high:.1f} on {cores} cores")
            if self.data["busy"]:
                print(
                    f"WARNING: the machine was busy (load above {BUSY_LOAD_PER_CORE * cores:.1f}): "
                    "other work competed for the CPUs and these figures are noisy; rerun on an idle machine"
                )
        print(f"\n({self.name}: {self.data['elapsed_s']:.0f} s)")
        if self.args.json:
            Path(self.args.json).write_text(json.dumps(self.data, indent=1, default=str), encoding="utf-8")
