"""A fork and a rewind of a long run: the server's time and peak memory for each.

    python bench/fork_copy.py [--quick] [--steps N] [--keys K] [--postgres]

A parent run of ``--steps`` steps × ``--keys`` keys (default 1M × 10; ``--quick`` 100k) is ingested
into a store on SQLite (or a throwaway PostgreSQL cluster). Then, each in a fresh interpreter so
that its peak memory is its own: a fork of it near its end is started as the server starts one
(the parent looked up, then the fork's first batch, which copies the parent's history up to the
step: ``store/fork.py``), and the parent is rewound to half its steps (``store/rewind.py``).
Printed: each one's wall time and how far it raised the process's peak RSS above where it stood
once connected. Run it with the code before and after a change (``PYTHONPATH``) to compare.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENTITY, PROJECT, PARENT = "bench", "forks", "parent"
BATCH = 20_000


def seed(url: str, steps: int, keys: int) -> None:
    from wakelog.store.database import Database
    from wakelog.store.ingest import apply_batch, validate

    db = Database(url)
    db.upgrade()
    names = [f"k{i}" for i in range(keys)]
    apply_batch(db, ENTITY, PROJECT, PARENT, validate([[0, "run", 1.0, {}]]))
    seq = 1
    for start in range(0, steps, BATCH):
        rows = range(start, min(start + BATCH, steps))
        batch = [
            [seq + i, "history", 1.0, {"_step": s, **{n: s * 0.001 + k for k, n in enumerate(names)}}]
            for i, s in enumerate(rows)
        ]
        apply_batch(db, ENTITY, PROJECT, PARENT, validate(batch))
        seq += len(batch)
    db.dispose()


def measure(url: str, what: str, step: int) -> dict[str, float]:
    """One fork or rewind in this process: its seconds and its peak RSS above the start's, in MB."""
    import sqlalchemy as sa

    from wakelog.server.manage.forks import inheritance
    from wakelog.store.database import Database
    from wakelog.store.ingest import apply_batch, validate
    from wakelog.store.rewind import truncate_history
    from wakelog.store.schema import runs

    db = Database(url)
    with db.read() as conn:
        conn.execute(sa.select(runs.c.id)).all()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if what == "fork":
        inherit = inheritance(db, ENTITY, PROJECT, PARENT, step, strict=False)
        first = [[0, "run", 1.0, {"fork_from": {"run": PARENT, "step": step}}]]
        apply_batch(db, ENTITY, PROJECT, "fork", validate(first), inherit=inherit)
    else:
        with db.write() as conn:
            truncate_history(conn, conn.execute(sa.select(runs).where(runs.c.run_id == PARENT)).one(), step)
    seconds = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    db.dispose()
    return {"seconds": seconds, "peak_mb": grown}


def child(url: str, what: str, step: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", what, "--url", url, "--at", str(step)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k steps")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL cluster")
    parser.add_argument("--measure", choices=["fork", "rewind"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--at", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.url, args.measure, args.at)))
        return
    steps = args.steps or (100_000 if args.quick else 1_000_000)
    cluster = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if args.postgres:
                from load import postgres

                cluster, url = postgres()
            else:
                url = f"sqlite:///{Path(tmp) / 'store.db'}"
            started = time.perf_counter()
            seed(url, steps, args.keys)
            backend = "PostgreSQL" if args.postgres else "SQLite"
            took = time.perf_counter() - started
            print(f"{backend}: a parent of {steps:,} steps × {args.keys} keys ({took:.1f} s to ingest)")
            for what, step in (("fork", steps - 1_234), ("rewind", steps // 2 + 17)):
                result = child(url, what, step)
                seconds, grown = result["seconds"], result["peak_mb"]
                print(f"  {what} at step {step:,}: {seconds:.2f} s, peak RSS +{grown:.0f} MB")
        finally:
            if cluster is not None:
                cluster.stop()


if __name__ == "__main__":
    main()
