"""Server budgets for reading data back (DESIGN.md §4), SQLite or PostgreSQL, server time:

* history: 100 runs × 4 keys × 100k steps, downsampled to 1,000 points per series — ≤ 300 ms;
* run table: 10k runs sorted by a summary metric — ≤ 200 ms;
* parameter importance (the importance panel): 1k runs × 20 config keys — ≤ 1,500 ms (the panel
  fills in after the page, whose own budget is 1.5 s).

The database is seeded directly through ``wakelog.store.ingest.apply_batch`` (the code the ingest
endpoint runs), not over HTTP: a few distinct template runs are ingested, and their series rows
copied to the other runs with SQL. Each query then goes through the real ASGI app in-process; the
figure is the handler's own ``Server-Timing`` (SQL, numpy and encoding the response), the median
of several repetitions after a warm-up. ``--batch`` sets how many steps each ingest batch holds:
series written in small live batches have more, smaller chunks (more sketch rows to read).

``--postgres`` seeds and serves a fresh database on a throwaway PostgreSQL cluster (as the tests
start one) instead of SQLite. ``--store-runs 1500`` stores 1,500 history runs (600M points of the
four keys) and charts the first 100: a read must cost the same on a store of any size.

Run: python bench/server_query.py [--quick] [--postgres] [--batch 4096] [--part importance] [--runs N]
     [--store-runs N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from _seed import backend_store, copy_series_from_templates, settle, storage_note

HISTORY_BUDGET_MS = 300.0
RUNS_BUDGET_MS = 200.0
IMPORTANCE_BUDGET_MS = 1500.0
IMPORTANCE_KEYS = 20
KEYS = ("loss", "acc", "lr", "grad_norm")


def seed_history(db: Any, runs: int, steps: int, batch: int, templates: int = 4) -> list[str]:
    """``runs`` runs of ``steps`` steps × KEYS (+ _runtime, _timestamp) in project bench/hist."""
    from wakelog.store.ingest import apply_batch

    rng = np.random.default_rng(0)
    ids = [f"h{i:03d}" for i in range(runs)]
    start = 1_700_000_000.0
    for t in range(min(templates, runs)):
        walk = np.cumsum(rng.standard_normal((steps, len(KEYS))), axis=0).tolist()
        seq = 1
        apply_batch(db, "bench", "hist", ids[t], [(0, "run", start, {"id": ids[t], "start_time": start})])
        for lo in range(0, steps, batch):
            records = []
            for step in range(lo, min(lo + batch, steps)):
                row = dict(zip(KEYS, walk[step], strict=True))
                row.update(_step=step, _runtime=step * 0.1, _timestamp=start + step * 0.1)
                records.append((seq, "history", start + step * 0.1, row))
                seq += 1
            apply_batch(db, "bench", "hist", ids[t], records)
    for i in range(templates, runs):
        apply_batch(db, "bench", "hist", ids[i], [(0, "run", start, {"id": ids[i], "start_time": start})])
    copy_series_from_templates(db, ids, templates, "h%")
    return ids


#: Each run's notes, as a team writes them (markdown, a few hundred characters).
NOTES = (
    "## Trial {i}\n\nSame data as the baseline; **lr** from the log-uniform prior, batch from the "
    "grid. Watch `eval/acc` after epoch 2 — the last sweep overfit there. Compare with the pinned "
    "run before promoting; see the report for the augmentation ablation."
)


def seed_table(db: Any, runs: int) -> None:
    """``runs`` runs in bench/table, each with three tags, notes, a config and a few metrics."""
    from wakelog.store.ingest import apply_batch

    rng = np.random.default_rng(1)
    for i in range(runs):
        start = 1_700_000_000.0 + i
        acc = float(rng.random())
        records = [
            (
                0,
                "run",
                start,
                {
                    "id": f"t{i:05d}",
                    "name": f"trial-{i}",
                    "tags": ["sweep", f"batch-{2 ** (i % 8)}", "baseline" if i % 10 == 0 else "candidate"],
                    "notes": NOTES.format(i=i),
                    "start_time": start,
                },
            ),
            (
                1,
                "config",
                start,
                {"update": {"lr": float(10 ** rng.uniform(-5, -1)), "batch": int(2 ** (i % 8))}},
            ),
        ]
        for step in range(3):
            row = {"_step": step, "acc": acc * (step + 1) / 3, "loss": 1 - acc + step, "epoch": step}
            records.append((2 + step, "history", start + step, row))
        records.append((5, "exit", start + 60, {"exit_code": 0, "state": "finished", "runtime": 60.0}))
        apply_batch(db, "bench", "table", f"t{i:05d}", records)


def seed_importance(db: Any, runs: int) -> None:
    """``runs`` runs in bench/imp with IMPORTANCE_KEYS config keys (numbers, a few categories and
    a nested one) and an ``acc`` that depends on two of them."""
    from wakelog.store.ingest import apply_batch

    rng = np.random.default_rng(2)
    for i in range(runs):
        start = 1_700_000_000.0 + i
        config: dict[str, Any] = {f"x{k}": float(rng.random()) for k in range(IMPORTANCE_KEYS - 4)}
        config |= {"opt": str(rng.choice(["adam", "sgd", "lamb"])), "batch": int(2 ** rng.integers(4, 9))}
        model = {"depth": int(rng.choice([18, 34, 50])), "act": str(rng.choice(["relu", "gelu"]))}
        config["model"] = model
        acc = 0.9 - 0.5 * config["x0"] + 0.1 * (config["opt"] == "adam") + float(rng.normal(0, 0.01))
        records = [
            (0, "run", start, {"id": f"i{i:05d}", "start_time": start}),
            (1, "config", start, {"update": config}),
            (2, "history", start + 1, {"_step": 0, "acc": acc}),
            (3, "exit", start + 2, {"exit_code": 0, "state": "finished", "runtime": 2.0}),
        ]
        apply_batch(db, "bench", "imp", f"i{i:05d}", records)


def bench_importance(client: Any, runs: int, repeat: int) -> list[dict[str, Any]]:
    path = "/api/v1/projects/bench/imp/importance"
    first = client.get(path, params={"metric": "acc"}).json()
    assert first["runs"] == runs and len(first["params"]) == IMPORTANCE_KEYS, first
    assert first["params"][0]["param"] == "x0", first["params"][:3]

    def call() -> float:
        response = client.get(path, params={"metric": "acc"})
        assert response.status_code == 200
        return server_ms(response)

    name = f"parameter importance {runs:,} runs × {IMPORTANCE_KEYS} config keys"
    return [report(name, measure(call, repeat), IMPORTANCE_BUDGET_MS)]


def server_ms(response: Any) -> float:
    timing = response.headers["server-timing"]
    return float(timing.split("dur=")[1])


def measure(call: Any, repeat: int) -> dict[str, float]:
    call()  # warm: connections, page cache, imports
    call()
    times = [call() for _ in range(repeat)]
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times)}


def report(name: str, figures: dict[str, float], budget: float) -> dict[str, Any]:
    ratio = figures["median_ms"] / budget
    verdict = "within" if ratio <= 1 else "OVER"
    spread = f"min {figures['min_ms']:.1f}, max {figures['max_ms']:.1f}"
    print(f"{name}: {figures['median_ms']:.1f} ms median ({spread})", end="")
    print(f" — budget ≤ {budget:.0f} ms: {ratio:.2f}× budget ({verdict})")
    return {"name": name, **figures, "budget_ms": budget, "ratio": ratio}


def bench_history(client: Any, ids: list[str], steps: int, repeat: int) -> list[dict[str, Any]]:
    body = {"runs": ids, "keys": list(KEYS), "points": 1000}
    answer = client.post("/api/v1/projects/bench/hist/history", json=body)
    assert answer.status_code == 200, answer.text
    check = answer.json()["series"]
    assert len(check) == len(ids) * len(KEYS) and all(len(s["steps"]) <= 1000 for s in check)
    assert all(s["downsampled"] and s["count"] == steps for s in check)

    def history(fmt: str) -> Any:
        def call() -> float:
            response = client.post(f"/api/v1/projects/bench/hist/history?format={fmt}", json=body)
            assert response.status_code == 200
            return server_ms(response)

        return call

    label = f"history {len(ids)} runs × {len(KEYS)} keys × {steps:,} steps → 1,000 points"
    return [
        report(f"{label} (JSON)", measure(history("json"), repeat), HISTORY_BUDGET_MS),
        report(f"{label} (MessagePack)", measure(history("msgpack"), repeat), HISTORY_BUDGET_MS),
    ]


def bench_table(client: Any, table_runs: int, repeat: int) -> list[dict[str, Any]]:
    def table(params: dict[str, Any]) -> Any:
        def call() -> float:
            response = client.get("/api/v1/projects/bench/table/runs", params=params)
            assert response.status_code == 200 and response.json()["total"] > 0
            return server_ms(response)

        return call

    first = client.get("/api/v1/projects/bench/table/runs", params={"order": "-summary.acc"}).json()
    accs = [r["summary"]["acc"] for r in first["runs"]]
    assert first["total"] == table_runs and accs == sorted(accs, reverse=True)
    name = f"run table {table_runs:,} runs sorted by a summary metric"
    filtered = {"order": "-summary.acc", "filter": "config.lr < 0.001 and summary.loss.min < 0.5"}
    tagged = {"order": "-summary.acc", "filter": "tags contains 'baseline'"}
    return [
        report(f"{name} (page of 50)", measure(table({"order": "-summary.acc"}), repeat), RUNS_BUDGET_MS),
        report(
            f"{name} (page of 1,000)",
            measure(table({"order": "-summary.acc", "limit": 1000}), repeat),
            RUNS_BUDGET_MS,
        ),
        report(f"{name}, filtered on config and summary", measure(table(filtered), repeat), RUNS_BUDGET_MS),
        report(f"{name}, filtered on a tag", measure(table(tagged), repeat), RUNS_BUDGET_MS),
    ]


def seed(config: Any, args: argparse.Namespace, sizes: dict[str, int], parts: set[str]) -> list[str]:
    """Seed the parts' data into ``config``'s store; the history runs' ids."""
    from wakelog.store.database import Database

    db = Database(config.database_url)
    t0 = time.perf_counter()
    ids = seed_history(db, sizes["runs"], sizes["steps"], args.batch) if "history" in parts else []
    t1 = time.perf_counter()
    if "table" in parts:
        seed_table(db, sizes["table_runs"])
    if "importance" in parts:
        seed_importance(db, sizes["importance_runs"])
    t2 = time.perf_counter()
    settle(db)
    with db.read() as conn:
        chunks = conn.execute(sa.text("SELECT count(*) FROM series_chunks WHERE stream = 0")).scalar()
    stored = storage_note(db)
    db.dispose()
    print(
        f"{'PostgreSQL' if args.postgres else 'SQLite'}: seeded {sizes['runs']} runs × {len(KEYS)} keys × "
        f"{sizes['steps']:,} steps ({sizes['runs'] * len(KEYS) * sizes['steps'] / 1e6:,.0f}M points, "
        f"{chunks:,} chunk rows, batches of {args.batch}) in {t1 - t0:.1f} s; "
        f"table and importance runs in {t2 - t1:.1f} s{stored}",
        file=sys.stderr,
    )
    return ids


def main() -> None:
    from wakelog.server.allocator import keep_freed_memory

    keep_freed_memory()  # as `wakelog server` does, before any thread starts
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data (ratios then mean little)")
    parser.add_argument("--batch", type=int, default=4096, help="steps per ingest batch when seeding")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--part", choices=("all", "history", "table", "importance"), default="all")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL cluster")
    parser.add_argument("--runs", type=int, help="history runs charted (default 100, --quick 20)")
    parser.add_argument(
        "--store-runs",
        type=int,
        help="history runs stored, the charted ones first (default: --runs; 1500: a 600M-point store)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    runs, steps, table_runs = (20, 20_000, 1000) if args.quick else (100, 100_000, 10_000)
    charted = args.runs or runs
    sizes = {
        "runs": max(charted, args.store_runs or 0),
        "steps": steps,
        "table_runs": table_runs,
        "importance_runs": 200 if args.quick else 1000,
    }
    parts = {"history", "table", "importance"} if args.part == "all" else {args.part}

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's note about httpx versions
        from starlette.testclient import TestClient

    from wakelog.server.app import create_app
    from wakelog.server.config import ServerConfig
    from wakelog.server.heap import freeze_startup
    from wakelog.server.serve import prepare

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, backend_store(args.postgres) as url:
        config = ServerConfig(data_dir=Path(tmp), backend_store=url)
        prepare(config)
        key = (Path(tmp) / "admin.key").read_text().strip()
        ids = seed(config, args, sizes, parts)
        app = create_app(config)
        freeze_startup()  # as `wakelog server` does once its app is built
        with TestClient(app, base_url="http://bench") as client:
            client.auth = ("api", key)
            if "history" in parts:
                results += bench_history(client, ids[:charted], steps, args.repeat)
            if "table" in parts:
                results += bench_table(client, table_runs, args.repeat)
            if "importance" in parts:
                results += bench_importance(client, sizes["importance_runs"], args.repeat)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"quick": args.quick, "postgres": args.postgres, "batch": args.batch, "results": results},
                indent=1,
            )
        )
    if not all(math.isfinite(r["ratio"]) for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
