"""Sweep budgets (issue 14), SQLite, server time of one ``next`` (the route's whole transaction:
find the sweep, renew the agent, reap dead agents, settle, choose, store the trial):

* bayes with 200 finished trials and 10 parameters: p95 ≤ 200 ms;
* grid and random: p95 ≤ 10 ms (with 200 trials handed out before).

The finished trials' runs are written through ``wakelog.store.ingest.apply_batch`` (the code the
ingest endpoint runs): each logs the sweep's metric and ends ``finished``.

Run: python bench/sweeps.py [--quick] [--json PATH]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BAYES_BUDGET_MS = 200.0
SIMPLE_BUDGET_MS = 10.0
TRIALS = 200


def ten_parameters(method: str) -> dict[str, Any]:
    grid = method == "grid"
    parameters: dict[str, Any] = {f"c{i}": {"values": list(range(4))} for i in range(4)}
    parameters |= {f"n{i}": {"min": 1, "max": 8} for i in range(3)}
    if grid:
        parameters |= {f"x{i}": {"values": [0.1, 0.2, 0.3]} for i in range(3)}
    else:
        parameters |= {
            "x0": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
            "x1": {"min": 0.0, "max": 1.0},
            "x2": {"distribution": "normal", "mu": 0.0, "sigma": 1.0},
        }
    return {"method": method, "metric": {"name": "loss", "goal": "minimize"}, "parameters": parameters}


def seed(db: Any, method: str, finished: int) -> tuple[str, str]:
    """A sweep with ``finished`` trials whose runs logged a loss and finished; its agent."""
    from wakelog.server.sweeps import store
    from wakelog.server.sweeps.config import normalise
    from wakelog.store.ingest import apply_batch

    now = time.time()
    with db.write() as conn:
        sweep_id = store.create(conn, "bench", method, normalise(ten_parameters(method)), None, None, now)
        sweep = store.find(conn, "bench", method, sweep_id)
        agent_id = store.add_agent(conn, sweep, "bench", 1, None, None, now)
    for i in range(finished):
        with db.write() as conn:
            sweep = store.find(conn, "bench", method, sweep_id)
            agent_pk = store.touch_agent(conn, sweep, agent_id, now)
            work = store.next_trial(conn, sweep, agent_pk, now)
        loss = sum(float(v) for v in _leaves(work["params"])) + i % 7
        records = [
            (0, "run", now, {"id": work["run_id"]}),
            (1, "history", now, {"_step": 0, "loss": loss}),
            (2, "exit", now, {"state": "finished", "exit_code": 0}),
        ]
        apply_batch(db, "bench", method, work["run_id"], records)
    return sweep_id, agent_id


def _leaves(value: Any) -> list[Any]:
    return (
        [leaf for child in value.values() for leaf in _leaves(child)] if isinstance(value, dict) else [value]
    )


def next_ms(db: Any, method: str, sweep_id: str, agent_id: str, repeat: int) -> list[float]:
    from wakelog.server.sweeps import store

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with db.write() as conn:
            sweep = store.find(conn, "bench", method, sweep_id)
            now = time.time()
            agent_pk = store.touch_agent(conn, sweep, agent_id, now)
            store.reap(conn, sweep, now, 60.0)
            work = store.next_trial(conn, sweep, agent_pk, now)
        times.append((time.perf_counter() - start) * 1000)
        assert work["action"] == "run", work
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import Report, parser, table

    args = parser(__doc__ or "").parse_args()
    report = Report("sweeps", args)
    report.header("next-trial suggestion, server time")
    from wakelog.store.database import Database

    repeat = 10 if args.quick else 40
    rows, results = [], {}
    with tempfile.TemporaryDirectory(prefix="wakelog-bench-sweeps-") as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.upgrade()
        for method, budget in (
            ("bayes", BAYES_BUDGET_MS),
            ("random", SIMPLE_BUDGET_MS),
            ("grid", SIMPLE_BUDGET_MS),
        ):
            sweep_id, agent_id = seed(db, method, TRIALS)
            times = next_ms(db, method, sweep_id, agent_id, repeat)
            figures = {"p50_ms": statistics.median(times), "p95_ms": p95(times), "budget_ms": budget}
            results[method] = figures
            rows.append([method, f"{figures['p50_ms']:.1f}", f"{figures['p95_ms']:.1f}", f"≤ {budget:.0f}"])
            line = f"{method}: next p95 {figures['p95_ms']:.1f} ms with {TRIALS} finished trials × 10 params"
            report.budget(
                f"{method} next p95", figures["p95_ms"], budget, "ms", f"{line} (budget ≤ {budget:.0f} ms)"
            )
        db.dispose()
    print()
    print(table(["method", "p50 ms", "p95 ms", "budget"], rows))
    report.data["results"] = results
    report.finish()
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
