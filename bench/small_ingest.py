"""Small-batch ingest: the server's CPU per live (small) ingest request, in-process.

    python bench/small_ingest.py [--quick] [--requests N] [--rows R] [--profile] [--backend-store URL]

The real app (``create_app``, SQLite in a temporary folder unless ``--backend-store`` names a
PostgreSQL database) serves ``--requests`` ingest requests of ``--rows`` history rows × 5 keys each
(default 10: one second of a run logging at 10 steps/s, what a coalescing uploader sends), one
after another, through httpx's in-memory ASGI transport: no network, no other process. The figure is
this process's CPU time (user + system) per request, minus the same transport's CPU per request for
``GET /api/v1/health`` (the client's and the ASGI plumbing's part), so what remains is the server's
work for the batch: auth, permission, decoding and checks, the transaction. ``--profile`` prints the
cProfile (CPU time per thread) of the ingest requests, sorted by ``--sort`` (default: cumulative).

Budget (DESIGN.md §4): ≤ 1 ms of server CPU per small request.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import io
import os
import pstats
import tempfile
import threading
import time
from contextlib import redirect_stderr
from pathlib import Path

import httpx
import msgspec

KEYS = ("loss", "acc", "lr", "grad_norm", "throughput")


def bodies(requests: int, rows: int) -> list[bytes]:
    """The run's batches, encoded the way the uploader encodes them (the client's cost, not ours)."""
    encoder = msgspec.msgpack.Encoder()
    now = time.time()
    out = [gzip.compress(encoder.encode([[0, "run", now, {"id": "small", "project": "bench"}]]), 1)]
    seq = 1
    for request in range(requests):
        records = []
        for row in range(rows):
            step = request * rows + row
            values = {key: 1.0 / (step + 1 + i) for i, key in enumerate(KEYS)}
            records.append([seq, "history", now, {**values, "_step": step, "_runtime": step * 0.1}])
            seq += 1
        out.append(gzip.compress(encoder.encode(records), 1))
    return out


class ThreadProfiles:
    """cProfile in every thread (the app runs sync routes and dependencies in a thread pool)."""

    def __init__(self, order: str) -> None:
        self.order = order
        self.profiles: list[cProfile.Profile] = []
        threading.setprofile(self._start)  # the pool's threads, as they start
        self._start()  # this one (the event loop's)

    def _start(self, *_: object) -> None:
        profile = cProfile.Profile(time.thread_time)  # CPU, not waiting
        self.profiles.append(profile)
        profile.enable()  # replaces this hook in that thread

    def print(self, lines: int) -> None:
        for profile in self.profiles:
            profile.disable()  # the main thread's (the others' end with their threads)
        pstats.Stats(*self.profiles).sort_stats(self.order).print_stats(lines)


async def measure(app: object, key: str, payloads: list[bytes], profiling: bool) -> dict:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/msgpack"}
    url = "/api/v1/runs/admin/bench/small/records"
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", auth=("api", key)) as http:
        (await http.post(url, content=payloads[0], headers=headers)).raise_for_status()
        for _ in range(20):  # warm-up: caches, the thread pool, the health route
            await http.get("/api/v1/health")
        start = time.process_time()
        for _ in [] if profiling else payloads[1:]:  # (not profiled)
            await http.get("/api/v1/health")
        health = (time.process_time() - start) / (len(payloads) - 1)
        start = time.process_time()
        for body in payloads[1:]:
            response = await http.post(url, content=body, headers=headers)
            response.raise_for_status()
        ingest = (time.process_time() - start) / (len(payloads) - 1)
    return {"ingest_ms": 1000 * ingest, "transport_ms": 1000 * health, "server_ms": 1000 * (ingest - health)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 requests")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (pstats: tottime, …)")
    parser.add_argument("--backend-store", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    requests = args.requests or (200 if args.quick else 1000)
    os.environ["WAKELOG_SILENT"] = "true"
    from wakelog.server.app import create_app
    from wakelog.server.config import ServerConfig
    from wakelog.server.serve import prepare

    with tempfile.TemporaryDirectory() as tmp:
        config = ServerConfig(data_dir=Path(tmp), backend_store=args.backend_store, min_free_bytes=0)
        with redirect_stderr(io.StringIO()):
            prepare(config)
        key = (Path(tmp) / "admin.key").read_text().strip()
        app = create_app(config)
        profiles = ThreadProfiles(args.sort) if args.profile else None

        async def run() -> dict:
            async with app.router.lifespan_context(app):
                return await measure(app, key, bodies(requests, args.rows), profiles is not None)

        result = asyncio.run(run())
    backend = "PostgreSQL" if args.backend_store else "SQLite"
    print(
        f"small ingest, {backend}, {requests} requests × {args.rows} rows × {len(KEYS)} keys: "
        f"{result['server_ms']:.2f} ms server CPU per request — budget ≤ 1 ms "
        f"({result['server_ms']:.2f}× budget); measured {result['ingest_ms']:.2f} ms minus "
        f"{result['transport_ms']:.2f} ms for the transport (GET /health)"
    )
    if profiles:
        profiles.print(60)


if __name__ == "__main__":
    main()
