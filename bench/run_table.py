"""The run table and its column picker at scale: SQL time of one page of a project's runs sorted by
a summary metric (first page, a deep page, the page after a cursor, filtered) and of the picker's
keys, in one project of ``--runs`` runs.

    python bench/run_table.py [--runs 50000] [--postgres] [--repeat 5]

The store is seeded with SQL, not through ingest (only the rows matter here, and ingest would take
hours at 1M runs): each run has a config of 4 keys, a summary of 3 metrics with their rows in
``summaries``, 3 tags; one in 20 is in the trash. The calls are the server's own query functions
(``wakelog.server.query.runs``) on the database, so the same script measures any version of them:
run it on two checkouts for before and after. The figure is the median of ``--repeat`` calls after
a warm-up.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import sqlalchemy as sa

from _common import median_ms
from _seed import scratch_database, settle

BATCH = 5000


def seed(db: Any, count: int) -> None:
    from wakelog.store import schema

    now = time.time()
    rng = np.random.default_rng(1)
    with db.write() as conn:
        conn.execute(schema.entities.insert(), [{"name": "bench", "created_at": now}])
        eid = conn.execute(sa.select(schema.entities.c.id)).scalar_one()
        conn.execute(
            schema.projects.insert(),
            [{"entity_id": eid, "name": "table", "created_at": now, "updated_at": now}],
        )
        pid = conn.execute(sa.select(schema.projects.c.id)).scalar_one()
        if hasattr(schema, "project_keys"):  # what ingest would have registered (migration 0017 on)
            keys = [("config", k) for k in ("lr", "batch", "opt.name", "opt.beta")]
            keys += [("summary", k) for k in ("acc", "loss", "epoch")]
            conn.execute(
                schema.project_keys.insert(), [{"project_id": pid, "kind": a, "key": b} for a, b in keys]
            )
    for start in range(0, count, BATCH):
        rows = []
        metrics = []
        for i in range(start, min(count, start + BATCH)):
            acc, loss = float(rng.random()), float(rng.random())
            rows.append(
                {
                    "project_id": pid,
                    "run_id": f"t{i:07d}",
                    "name": f"trial-{i}",
                    "state": "finished",
                    "tags": ["sweep", f"batch-{2 ** (i % 8)}", "baseline" if i % 10 == 0 else "candidate"],
                    "config": {
                        "lr": float(10 ** rng.uniform(-5, -1)),
                        "batch": 2 ** (i % 8),
                        "opt": {"name": "adam", "beta": 0.9},
                    },
                    "summary": {"acc": acc, "loss": loss, "epoch": 3},
                    "run_metadata": {},
                    "metric_defs": {},
                    "created_at": now - count + i,
                    "updated_at": now - count + i,
                    "heartbeat_at": now - count + i,
                    "last_step": 2,
                    "last_seq": 5,
                    "deleted_at": now if i % 20 == 0 else None,
                }
            )
            metrics.append((acc, loss))
        with db.write() as conn:
            conn.execute(schema.runs.insert(), rows)
            pks = (
                conn.execute(
                    sa.select(schema.runs.c.id)
                    .where(schema.runs.c.run_id >= rows[0]["run_id"])
                    .order_by(schema.runs.c.id)
                )
                .scalars()
                .all()
            )
            summary_rows = [
                {
                    "run_pk": pk,
                    **({"project_id": pid} if "project_id" in schema.summaries.c else {}),  # 0019 on
                    "key": key,
                    "last": v,
                    "min": v,
                    "max": v,
                    "first": v,
                    "total": v,
                    "count": 3,
                    "last_step": 2,
                }
                for pk, (acc, loss) in zip(pks, metrics, strict=True)
                for key, v in (("acc", acc), ("loss", loss), ("epoch", 2.0))
            ]
            conn.execute(schema.summaries.insert(), summary_rows)


def index(db: Any, unindexed: tuple[int, str]) -> float:
    """Index the key as the server does after a first sort by it (``store/sort_index.py``): ms."""
    from wakelog.store import sort_index

    started = time.perf_counter()
    sort_index.add(db, *unindexed)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL cluster")
    args = parser.parse_args()

    from wakelog.server.query import runs as q
    from wakelog.server.query.filters import parse, parse_order

    with scratch_database(args.postgres) as db:
        started = time.perf_counter()
        seed(db, args.runs)
        seeded = time.perf_counter() - started
        settle(db)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{backend}, {args.runs:,} runs in one project (1 in 20 trashed), seeded in {seeded:.0f} s")
        sort = parse_order("-summary.acc")
        flt = parse("config.lr < 0.001 and summary.loss.min < 0.5")
        with db.read() as conn:
            started = time.perf_counter()
            first = q.list_runs(conn, "bench", "table", None, sort, ctx=q.context(conn), limit=50)
            took = (time.perf_counter() - started) * 1000
        assert first is not None and first.total == args.runs - (args.runs + 19) // 20
        if getattr(first, "unindexed", None) is not None:  # 0020 on: the first sort indexes its key
            print(f"  the first page sorted by -summary.acc (sorted the general way): {took:.0f} ms")
            indexing = index(db, first.unindexed)
            print(f"  then indexing summary.acc, as the server does after it: {indexing:.0f} ms")
            settle(db)
        with db.read() as conn:
            ctx = q.context(conn)
            cases: dict[str, Callable[[], Any]] = {
                "page of 50, sorted by -summary.acc": lambda: q.list_runs(
                    conn, "bench", "table", None, sort, ctx=ctx, limit=50
                ),
                "page of 500 at offset 5,000 (the web app's 11th page)": lambda: q.list_runs(
                    conn, "bench", "table", None, sort, ctx=ctx, limit=500, offset=5000
                ),
                "page of 50, filtered on config and summary": lambda: q.list_runs(
                    conn, "bench", "table", flt, sort, ctx=ctx, limit=50
                ),
                "column picker keys": lambda: q.project_keys(conn, "bench", "table"),
            }
            deep = int(args.runs * 0.8) // 500 * 500
            cases[f"page of 500 at offset {deep:,}"] = lambda: q.list_runs(
                conn, "bench", "table", None, sort, ctx=ctx, limit=500, offset=deep
            )
            if hasattr(first, "next_cursor"):
                for at in (5000, deep):
                    page = q.list_runs(
                        conn, "bench", "table", None, sort, ctx=ctx, limit=500, offset=at - 500
                    )
                    cases[f"page of 500 after the cursor of offset {at:,}"] = lambda c=page.next_cursor: (
                        q.list_runs(conn, "bench", "table", None, sort, ctx=ctx, limit=500, after=c)
                    )
            for name, call in cases.items():
                print(f"  {name}: {median_ms(call, args.repeat):.1f} ms")


if __name__ == "__main__":
    main()
