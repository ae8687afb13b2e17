"""Live capacity: how many live runs one server box holds (issue 17's 1,000 runs × 50 keys).

    python bench/live_capacity.py [--runs 100,200,400] [--keys 50] [--seconds 20]
                                  [--workers N] [--postgres | --backend-store URL]

Each of ``--runs`` simulated live runs sends what the coalescing uploader sends for a run logging
``--keys`` scalars at 10 steps/s: one request a second of 10 history rows, on its own keep-alive
connection, the runs' requests spread evenly over each second. They go to one real ``wakelog server``
process (``--workers`` processes) on loopback, on SQLite in a temporary folder unless
``--backend-store`` names a PostgreSQL database (``--postgres``: a throwaway cluster, as the tests
start one). The load generator writes HTTP/1.1 itself, request bytes prepared in advance, so that
it takes as little as possible of the two cores it shares with the server.

For each count of runs it prints: requests answered per second, the server's CPU (its processes,
from /proc) as cores and per request, the whole box's CPU less the load generator's (PostgreSQL
included), and the latency from when a request was due to its answer: p50, p99, max. A request due
while its run's previous one is unanswered waits for it, as the uploader does, so a server that
falls behind shows as a growing latency. "held" means every request answered 200, p99 ≤ 250 ms,
and the answered rate within 2 % of the offered one. The last line projects the cores 1,000 runs
need at the measured CPU per request.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import psutil

from server_ingest import start_server
from small_ingest import key_names

ROWS = 10  # a second of a run logging at 10 steps/s: what the coalescing uploader sends at once
P99_BUDGET_MS = 250.0
WARM_UP = 3.0  # seconds of each measurement left out of its figures (connections, caches)


def run_bodies(run: int, seconds: int, keys: list[str]) -> list[bytes]:
    """One run's requests: its run record, then a request of ``ROWS`` rows per second."""
    encoder = msgspec.msgpack.Encoder()
    now = time.time()
    run_id = f"live-{run}"
    out = [gzip.compress(encoder.encode([[0, "run", now, {"id": run_id, "project": "capacity"}]]), 1)]
    for second in range(seconds):
        records = []
        for row in range(ROWS):
            step = second * ROWS + row
            values = {key: 1.0 / (step + 1 + i) + run * 1e-6 for i, key in enumerate(keys)}
            values.update(_step=step, _runtime=step * 0.1, _timestamp=now + step * 0.1)
            records.append([step + 1, "history", now + step * 0.1, values])
        out.append(gzip.compress(encoder.encode(records), 1))
    return out


def requests_of(run: int, bodies: list[bytes], key: str) -> list[bytes]:
    """The HTTP/1.1 requests carrying ``bodies`` (keep-alive)."""
    auth = base64.b64encode(f"api:{key}".encode()).decode()
    head = (
        f"POST /api/v1/runs/admin/capacity/live-{run}/records HTTP/1.1\r\nHost: bench\r\n"
        f"Authorization: Basic {auth}\r\nContent-Type: application/msgpack\r\nContent-Encoding: gzip\r\n"
    )
    return [f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body for body in bodies]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # ms from due to answered (after warm-up)
    answered: int = 0
    failed: list[str] = field(default_factory=list)


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send one request and read its whole answer; its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def live_run(port: int, requests: list[bytes], start: float, phase: float, tally: Tally) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        status = await exchange(reader, writer, requests[0])
        if status != 200:
            tally.failed.append(f"run record: {status}")
        loop = asyncio.get_running_loop()
        for second, request in enumerate(requests[1:]):
            due = start + phase + second
            await asyncio.sleep(max(0.0, due - loop.time()))
            status = await exchange(reader, writer, request)
            if status != 200:
                tally.failed.append(f"{status}")
                continue
            tally.answered += 1
            if second >= WARM_UP:
                tally.latencies.append((loop.time() - due) * 1000)
    finally:
        writer.close()


def cpu_of(process: psutil.Process, children: bool = True) -> float:
    """User + system CPU seconds of a process and, unless told not, its children (``--workers``)."""
    total = 0.0
    for each in [process, *(process.children(recursive=True) if children else ())]:
        try:
            times = each.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def box_cpu() -> float:
    """CPU seconds the whole machine has spent busy."""
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


async def measure(
    port: int, key: str, server: psutil.Process, runs: int, offset: int, args: argparse.Namespace
) -> dict[str, Any]:
    """``runs`` new live runs for ``args.seconds``; the figures of the seconds after the warm-up."""
    keys = key_names(args.keys)
    bodies = [
        requests_of(offset + run, run_bodies(offset + run, args.seconds, keys), key) for run in range(runs)
    ]
    tally = Tally()
    loop = asyncio.get_running_loop()
    start = loop.time() + 1.0  # every connection is open and its run made by then
    me = psutil.Process()
    tasks = [
        asyncio.create_task(live_run(port, bodies[run], start, run / runs, tally)) for run in range(runs)
    ]
    await asyncio.sleep(max(0.0, start + WARM_UP - loop.time()))
    marks = (loop.time(), cpu_of(server), box_cpu(), cpu_of(me, children=False))  # the server is a child
    answered = tally.answered
    await asyncio.sleep(max(0.0, start + args.seconds - loop.time()))
    ends = (loop.time(), cpu_of(server), box_cpu(), cpu_of(me, children=False))
    answered = tally.answered - answered
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.seconds + 120)
    wall = ends[0] - marks[0]
    server_cpu, box, client = (ends[i] - marks[i] for i in (1, 2, 3))
    latencies = sorted(tally.latencies)
    return {
        "runs": runs,
        "rate": answered / wall,
        "server_cores": server_cpu / wall,
        "server_ms": 1000 * server_cpu / max(answered, 1),
        "box_cores": (box - client) / wall,
        "client_cores": client / wall,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "max": latencies[-1] if latencies else float("nan"),
        "failed": tally.failed,
    }


def report(row: dict[str, Any], keys: int) -> None:
    held = not row["failed"] and row["p99"] <= P99_BUDGET_MS and row["rate"] >= 0.98 * row["runs"]
    failed = "; failed: " + ", ".join(row["failed"][:3]) if row["failed"] else ""
    print(
        f"{row['runs']:>5} runs × {keys} keys: {row['rate']:7.1f} requests/s answered; server "
        f"{row['server_cores']:.2f} cores ({row['server_ms']:.2f} ms per request); box less the load "
        f"generator {row['box_cores']:.2f} cores (generator {row['client_cores']:.2f}); latency p50 "
        f"{row['p50']:.0f} / p99 {row['p99']:.0f} / max {row['max']:.0f} ms — "
        + ("held" if held else f"NOT held{failed}")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="50,100,200", help="comma-separated counts of live runs")
    parser.add_argument("--keys", type=int, default=50, help="scalars per row (default 50)")
    parser.add_argument("--seconds", type=int, default=20, help="seconds each count is measured")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--backend-store", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL cluster")
    args = parser.parse_args()
    counts = [int(count) for count in args.runs.split(",")]
    cluster = None
    if args.postgres:
        from load import postgres  # as the tests start one

        cluster, args.backend_store = postgres()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            extra = ["--backend-store", args.backend_store] if args.backend_store else []
            proc, url, key = start_server(Path(tmp) / "server", workers=args.workers, extra=extra)
            try:
                server = psutil.Process(proc.pid)
                port = int(url.rsplit(":", 1)[1])
                backend = "PostgreSQL" if args.backend_store else "SQLite"
                print(f"live capacity, {backend}, {args.workers} server process(es), {args.seconds} s each:")
                rows, offset = [], 0
                for runs in counts:
                    rows.append(asyncio.run(measure(port, key, server, runs, offset, args)))
                    report(rows[-1], args.keys)
                    offset += runs  # new runs each time: every measurement starts at a run's start
            finally:
                proc.terminate()
                proc.wait()
        per_request = min(row["server_ms"] for row in rows)
        print(
            f"1,000 runs × {args.keys} keys at {per_request:.2f} ms of server CPU per request: "
            f"{per_request:.1f} server cores (budget: one 2-core box, {per_request / 2:.2f}× it)"
        )
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
