"""One run's chart, zoom and CSV export on a store holding many other runs (server time).

    python bench/chunk_reads.py [--quick] [--postgres] [--runs N] [--steps S] [--repeat R] [--json PATH]

Budget (DESIGN.md §4): ≤ 20 ms / ≤ 20 ms / ≤ 200 ms on a 600M-point store, which means no read may
scan the chunk table: its cost must not grow with the other runs. ``--runs`` runs × 4 keys ×
``--steps`` steps are seeded as ``bench/server_query.py`` seeds them (a few ingested, the others
copies in SQL); then one run's full chart (1,000 points a key, from the sketches), a zoom into a
tenth of its steps (decodes the chunks it covers) and its CSV export (decodes them all) go through
the real app in-process, and each figure is the handler's own ``Server-Timing``, the median of
``--repeat`` after a warm-up (``--postgres``: on a throwaway PostgreSQL cluster, not SQLite).
Run it with the code before and after a change (``PYTHONPATH``) to
compare: the store and the requests are the same. (The export streams its answer and has no
``Server-Timing``: its figure is the whole in-process request.)
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
import warnings
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from _seed import backend_store, settle
from server_query import KEYS, measure, seed_history, server_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 runs × 20k steps")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL cluster")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    runs = args.runs or (100 if args.quick else 400)
    steps = args.steps or (20_000 if args.quick else 50_000)
    with warnings.catch_warnings():  # this Starlette would rather have httpx2, which we do not use
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient

    from wakelog.server.app import create_app
    from wakelog.server.config import ServerConfig
    from wakelog.server.serve import prepare
    from wakelog.store.database import Database

    with tempfile.TemporaryDirectory() as tmp, backend_store(args.postgres) as url:
        config = ServerConfig(data_dir=Path(tmp), backend_store=url, min_free_bytes=0)
        with redirect_stderr(io.StringIO()):
            prepare(config)
        key = (Path(tmp) / "admin.key").read_text().strip()
        db = Database(config.database_url)
        ids = seed_history(db, runs, steps, 4096)
        settle(db)
        with db.read() as conn:
            chunks = conn.execute(sa.text("SELECT count(*) FROM series_chunks")).scalar()
        db.dispose()
        run = f"/api/v1/runs/bench/hist/{ids[len(ids) // 2]}/history"
        keys = list(KEYS)
        asks: dict[str, tuple[str, dict[str, Any]]] = {
            "chart": (run, {"keys": keys, "points": 1000}),
            "zoom": (
                run,
                {"keys": keys, "points": 1000, "min_step": steps // 2, "max_step": steps // 2 + steps // 10},
            ),
            "export": (f"{run}/export", {"format": "csv"}),
        }
        results = {}
        with TestClient(create_app(config), base_url="http://bench") as client:
            client.auth = ("api", key)
            for name, (path, params) in asks.items():

                def call(path: str = path, params: dict[str, Any] = params) -> float:
                    start = time.perf_counter()
                    response = client.get(path, params=params)
                    response.raise_for_status()
                    if "server-timing" in response.headers:
                        return server_ms(response)
                    return 1000 * (time.perf_counter() - start)  # the export streams: the whole request

                results[name] = measure(call, args.repeat)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    store = f"{runs} runs × {len(keys)} keys × {steps:,} steps ({chunks:,} chunk rows)"
    print(f"{backend}: one run's reads among {store}:")
    for name, f in results.items():
        print(f"  {name}: {f['median_ms']:.1f} ms (min {f['min_ms']:.1f}, max {f['max_ms']:.1f})")
    if args.json:
        args.json.write_text(
            json.dumps({"runs": runs, "steps": steps, "chunks": chunks, **results}, indent=1)
        )


if __name__ == "__main__":
    main()
