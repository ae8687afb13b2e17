"""Live capacity: how many live runs one server box holds (issue 17's 1,000 runs × 50 keys).

    python bench/live_capacity.py [--runs 100,200,400] [--keys 50] [--config-keys C] [--seconds 20]
                                  [--workers N] [--max-send-interval S] [--postgres | --backend-store URL]

Each of ``--runs`` simulated live runs logs a row of ``--keys`` scalars every 0.1 s and sends its rows
as the uploader does: on its own keep-alive connection, every row logged so far in one batch, at most
once a second (``SEND_INTERVAL``), or as often as a busy server asks (``"interval"`` in its answers:
server/pacing.py, up to ``--max-send-interval``, the server's option); each run's config, of
``--config-keys`` entries (default none), is set when it starts. The runs start spread evenly
over the longest interval the server may ask for (a second without pacing), as a cluster's runs
start at any time, each a few batches into its series (``LiveRun.head_start``). They go to one real
``wakelog server`` process (``--workers`` processes) on loopback, on SQLite in a temporary folder
unless ``--backend-store`` names a PostgreSQL database (``--postgres``: a throwaway cluster, as the
tests start one). The rows are encoded in advance and the load generator writes HTTP/1.1 itself,
so that it takes as little as possible of the two cores it shares with the server. All runs write
with one key, so the server's per-user write limit is off (``--write-rate 0``); a team's runs would
write with their own users' keys.

For each count of runs, over ``--seconds`` after a warm-up (``warm_up``: long enough for the server's
pacing to move the runs from the uploader's interval to the longest it may ask for, as after a
server's restart with its runs live; what the warm-up's requests waited is printed too, but is not
the steady state the figures are of): requests and rows answered per second,
the server's CPU (its processes, from /proc) as cores and per request, the
whole box's CPU less the load generator's (PostgreSQL included), the latency from when a request
was due to its answer (p50, p99, max), and the p99 age of a batch's oldest row when it is answered.
A run's next request waits for its previous answer, as the uploader's does, so a server that falls
behind shows as rows growing older. "held": every request answered 200, latency p99 ≤ 250 ms and
rows answered within 2 s (p99), or within half a second more than ``--max-send-interval`` where
that is longer (the freshness the operator chose); the runs' mean wait between batches (as the
server asked) is shown. The last line projects the server cores 1,000 runs need at the CPU per
run of the largest count held.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import json
import math
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import psutil

from server_ingest import start_server
from small_ingest import key_names, opening_records
from wakelog.server.pacing import MAX_STEP, WINDOW, machine_busy
from wakelog.transport.uploader import SEND_INTERVAL, paced

STEPS_PER_SECOND = 10
P99_BUDGET_MS = 250.0
FRESH_SECONDS = 2.0  # a logged point is on the server within this (the web app's live charts)
WARM_UP = 3.0  # seconds of each measurement left out of its figures at least (connections, caches)


def warm_up(max_send_interval: float) -> float:
    """Seconds before the measurement: at least ``WARM_UP``, and as long as the server's pacing takes
    at its slowest to move the runs from the uploader's interval to ``max_send_interval``,
    ``MAX_STEP`` a ``WINDOW`` (faster while the server is saturated), after its first window (the
    runs start at once, as after a server's restart: until pacing has caught up they send more
    often than the server can take, and queue)."""
    steps = math.ceil(math.log(max(max_send_interval, SEND_INTERVAL) / SEND_INTERVAL) / math.log(MAX_STEP))
    return max(WARM_UP, (steps + 1) * WINDOW)


class LiveRun:
    """One simulated live run: a row of ``keys`` every 0.1 s, encoded in advance (the training's
    and the run log's work, not the uploader's), sent as the uploader sends them."""

    def __init__(self, run: int, seconds: int, keys: list[str], key: str, config_keys: int = 0) -> None:
        #: Rows sent one a request before the measurement: runs of a cluster started at different
        #: times, so their series' joins (every 16th batch, the dearest) do not all fall together.
        self.head_start = random.Random(run).randrange(16)
        encoder = msgspec.msgpack.Encoder()
        now = time.time()
        first = opening_records({"id": f"live-{run}", "project": "capacity"}, now, config_keys)
        self.first = gzip.compress(encoder.encode(first))
        self.rows = []
        for step in range(self.head_start + seconds * STEPS_PER_SECOND):
            values = {name: 1.0 / (step + 1 + i) + run * 1e-6 for i, name in enumerate(keys)}
            values.update(_step=step, _runtime=step * 0.1, _timestamp=now + step * 0.1)
            self.rows.append(encoder.encode([step + len(first), "history", now + step * 0.1, values]))
        auth = base64.b64encode(f"api:{key}".encode()).decode()
        self.head = (
            f"POST /api/v1/runs/admin/capacity/live-{run}/records HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Basic {auth}\r\nContent-Type: application/msgpack\r\nContent-Encoding: gzip\r\n"
        )

    def request(self, body: bytes) -> bytes:
        return f"{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body

    def batch(self, first: int, end: int) -> bytes:
        """The rows ``first`` to ``end`` (exclusive) as one gzipped MessagePack array."""
        count = end - first
        header = bytes([0x90 | count]) if count < 16 else b"\xdc" + count.to_bytes(2, "big")
        return gzip.compress(header + b"".join(self.rows[first:end]), 1)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # ms from due to answered (after warm-up)
    settling: list[float] = field(default_factory=list)  # the same during the warm-up
    ages: list[float] = field(default_factory=list)  # s from a row's logging to its answer (after warm-up)
    answered: int = 0  # requests
    rows: int = 0
    failed: list[str] = field(default_factory=list)
    intervals: list[float] = field(default_factory=list)  # s waited as asked, per answer (after warm-up)


class Connection:
    """A keep-alive HTTP/1.1 connection to the server, opened again when the server closed it while
    idle (uvicorn does after 5 s); a batch sent twice is applied once (the ack)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request and read its whole answer: its status and body."""
        for attempt in range(2):
            if self.streams is None:
                self.streams = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.streams
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt:
                    raise
                continue
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            return int(head.split(b" ", 2)[1]), await reader.readexactly(length)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def begin(port: int, run: LiveRun, tally: Tally) -> Connection:
    """Connect, make the run, and send its head start."""
    connection = Connection(port)
    for body in [run.first, *(run.batch(row, row + 1) for row in range(run.head_start))]:
        status, _ = await connection.exchange(run.request(body))
        if status != 200:
            tally.failed.append(f"before the measurement: {status}")
    return connection


async def live(
    connection: Connection, run: LiveRun, start: float, phase: float, warm: float, tally: Tally
) -> None:
    """Send the run's rows as the uploader does: at most one batch a second, every row logged by
    then; the next batch waits for the answer to this one."""
    loop = asyncio.get_running_loop()
    sent, due = run.head_start, start + phase
    rng = random.Random(phase)

    def logged_at(row: int) -> float:
        return start + (row - run.head_start) / STEPS_PER_SECOND

    try:
        while sent < len(run.rows):
            await asyncio.sleep(max(0.0, due - loop.time()))
            logged = min(len(run.rows), run.head_start + int((loop.time() - start) * STEPS_PER_SECOND) + 1)
            status, body = await connection.exchange(run.request(run.batch(sent, logged)))
            answered = loop.time()
            interval = SEND_INTERVAL
            if status != 200:
                tally.failed.append(f"{status}")
            else:
                interval = paced(SEND_INTERVAL, json.loads(body).get("interval"), rng)  # a busy server's
                tally.answered += 1
                tally.rows += logged - sent
                if due - start < warm:
                    tally.settling.append((answered - due) * 1000)
                else:
                    tally.latencies.append((answered - due) * 1000)
                    tally.ages.append(answered - logged_at(sent))  # the batch's oldest row
                    tally.intervals.append(interval)
                sent = logged
            due = max(due + interval, answered)
    finally:
        connection.close()


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


async def measure(
    port: int, key: str, server: psutil.Process, runs: int, offset: int, args: argparse.Namespace
) -> dict[str, Any]:
    """``runs`` new live runs for the warm-up and ``args.seconds``; the figures of those seconds."""
    keys = key_names(args.keys)
    warm = warm_up(args.max_send_interval)
    seconds = math.ceil(warm) + args.seconds
    runs_made = [LiveRun(offset + run, seconds, keys, key, args.config_keys) for run in range(runs)]
    tally = Tally()
    loop = asyncio.get_running_loop()
    connections = await asyncio.gather(*(begin(port, made, tally) for made in runs_made))
    start = loop.time() + 0.5
    me = psutil.Process()
    tasks = [
        asyncio.create_task(live(connection, made, start, index * args.max_send_interval / runs, warm, tally))
        for index, (connection, made) in enumerate(zip(connections, runs_made, strict=True))
    ]
    await asyncio.sleep(max(0.0, start + warm - loop.time()))
    marks = (loop.time(), cpu_of(server), machine_busy(), cpu_of(me, children=False))  # the server is a child
    answered, rows = tally.answered, tally.rows
    await asyncio.sleep(max(0.0, start + warm + args.seconds - loop.time()))
    ends = (loop.time(), cpu_of(server), machine_busy(), cpu_of(me, children=False))
    answered, rows = tally.answered - answered, tally.rows - rows
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 120)
    wall = ends[0] - marks[0]
    server_cpu, box, client = (ends[i] - marks[i] for i in (1, 2, 3))
    return {
        "runs": runs,
        "rate": answered / wall,
        "rows": rows / wall,
        "server_cores": server_cpu / wall,
        "server_ms": 1000 * server_cpu / max(answered, 1),
        "box_cores": (box - client) / wall,
        "client_cores": client / wall,
        "latency": percentiles(tally.latencies),
        "warm_up": (warm, percentiles(tally.settling)),
        "age": percentiles(tally.ages),
        "failed": tally.failed,
        "interval": statistics.fmean(tally.intervals) if tally.intervals else math.nan,
        "fresh": max(FRESH_SECONDS, args.max_send_interval + 0.5),
    }


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max (NaN when there are none)."""
    if not values:
        return (math.nan,) * 3
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))], ordered[-1]


def held(row: dict[str, Any]) -> bool:
    """Every request answered 200, their p99 within budget, and rows still reaching the server
    within ``FRESH_SECONDS`` or the longer bound ``--max-send-interval`` chose (a server falling
    behind makes them older and older)."""
    return not row["failed"] and row["latency"][1] <= P99_BUDGET_MS and row["age"][1] <= row["fresh"]


def report(row: dict[str, Any], keys: int) -> None:
    failed = "; failed: " + ", ".join(row["failed"][:3]) if row["failed"] else ""
    latency, age = row["latency"], row["age"]
    print(
        f"{row['runs']:>5} runs × {keys} keys: {row['rate']:6.1f} requests/s ({row['rows']:7.0f} rows/s); "
        f"server {row['server_cores']:.2f} cores ({row['server_ms']:.2f} ms per "
        f"request); box less the load generator {row['box_cores']:.2f} cores (generator "
        f"{row['client_cores']:.2f}); latency p50 {latency[0]:.0f} / p99 {latency[1]:.0f} / max "
        f"{latency[2]:.0f} ms; a row's age when answered p99 {age[1]:.2f} s (of {row['fresh']:g}); "
        f"mean wait {row['interval']:.2f} s — " + ("held" if held(row) else f"NOT held{failed}")
    )
    warm, settling = row["warm_up"]
    print(f"        (the {warm:g} s of warm-up, while pacing settled: latency p99 {settling[1]:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="50,100,200", help="comma-separated counts of live runs")
    parser.add_argument("--keys", type=int, default=50, help="scalars per row (default 50)")
    parser.add_argument("--config-keys", type=int, default=0, help="entries of each run's config (default 0)")
    parser.add_argument(
        "--seconds", type=int, default=20, help="seconds each count is measured, after its warm-up"
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--max-send-interval",
        type=float,
        default=1.5,
        help="the server's longest send interval for its live runs (default 1.5 s, its own; 1: no pacing)",
    )
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
            extra += ["--write-rate", "0"]  # every run here writes with one key: no per-user limit
            extra += ["--max-send-interval", str(args.max_send_interval)]
            proc, url, key = start_server(Path(tmp) / "server", workers=args.workers, extra=extra)
            try:
                server = psutil.Process(proc.pid)
                port = int(url.rsplit(":", 1)[1])
                backend = "PostgreSQL" if args.backend_store else "SQLite"
                config = f", configs of {args.config_keys} entries" if args.config_keys else ""
                processes = f"{args.workers} server process(es)"
                pacing = f"send intervals up to {args.max_send_interval:g} s"
                warm = f"{args.seconds} s each after {warm_up(args.max_send_interval):g} s of warm-up"
                print(f"live capacity, {backend}, {processes}, {pacing}, {warm}{config}:")
                rows, offset = [], 0
                for runs in counts:
                    rows.append(asyncio.run(measure(port, key, server, runs, offset, args)))
                    report(rows[-1], args.keys)
                    offset += runs  # new runs each time: every measurement starts at a run's start
            finally:
                proc.terminate()
                proc.wait()
        busiest = max((row for row in rows if held(row)), key=lambda row: row["runs"], default=rows[-1])
        cores = 1000 * busiest["server_cores"] / busiest["runs"]
        print(
            f"1,000 runs × {args.keys} keys at the CPU per run of {busiest['runs']} runs: {cores:.1f} "
            f"server cores (budget: one 2-core box, {cores / 2:.2f}× it)"
        )
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
