"""Live ingest: what a live run costs the server, uploading batch by batch as it logs.

    python bench/live_ingest.py [--quick] [--runs N] [--seconds S] [--json PATH]

``--runs`` live runs (default 5) each log 5 scalars at 10 steps/s for ``--seconds`` against one real
`wakelog server` process on SQLite. Each run is a run log written as the SDK's writer writes it (a row,
flushed every 100 ms) and the real ``Uploader`` tailing it in a thread of this process (its parent:
this process, so it uploads live). Twice, side by side on the same server: with every batch sent as
soon as the previous one is acknowledged (``send_interval=0``: the uploader before coalescing), then
with the default coalescing. Printed per live run: requests per second, the delay from a row being
written to its batch being acknowledged (p50 / max), and the server's CPU (user + system, from
/proc) per request and per second of live run — with the ratios after / before.

Budgets (DESIGN.md §4): a live run sends ≤ 1 request/s; new points are on the server within 2 s;
≤ 1 ms of server CPU per small request.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from server_ingest import KEYS, cpu_seconds, start_server
from wakelog.runlog import RecordType, RunLogWriter
from wakelog.transport.client import ServerClient
from wakelog.transport.uploader import SEND_INTERVAL, Uploader

RATE = 10.0  # steps per second, per run
FLUSH = 0.1  # the SDK writer's flush interval


class Timed(httpx.HTTPTransport):
    """The network, noting for each ingest batch when it was acknowledged and which seqs it held."""

    def __init__(self) -> None:
        super().__init__()
        self.acked: list[tuple[float, int]] = []  # (monotonic time, the highest seq acked)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/records") and request.method == "POST":
            response.read()
            ack = response.json().get("ack", -1) if response.status_code == 200 else -1
            self.acked.append((time.monotonic(), ack))
        return response


def live_run(root: Path, url: str, key: str, name: str, seconds: float, interval: float) -> dict[str, Any]:
    """One live run: log for ``seconds``, end, wait for the uploader; its requests and delays."""
    run_dir = root / f"run-20261204_000000-{name}"
    run_dir.mkdir(parents=True)
    writer = RunLogWriter(run_dir / f"run-{name}.wakelog")
    writer.append(RecordType.RUN, {"id": name, "project": "live"}, time.time())
    writer.flush()
    transport = Timed()
    client = ServerClient(url, key, transport=transport)
    uploader = Uploader(
        run_dir, client, "live", name, entity="admin", parent_pid=os.getpid(), send_interval=interval
    )
    thread = threading.Thread(target=uploader.run)
    thread.start()
    written: dict[int, float] = {}
    start = time.monotonic()
    step = 0
    while (now := time.monotonic()) - start < seconds:
        while step <= (now - start) * RATE:
            row = {k: float(step) for k in KEYS} | {"_step": step, "_timestamp": time.time()}
            written[writer.append(RecordType.HISTORY, row, time.time())] = time.monotonic()
            step += 1
        writer.flush()
        time.sleep(FLUSH)
    writer.append(RecordType.EXIT, {"exit_code": 0}, time.time())
    writer.close()
    thread.join()
    client.close()
    delays = [min(t for t, ack in transport.acked if ack >= seq) - when for seq, when in written.items()]
    live = [t for t, _ in transport.acked if t - start < seconds]  # the exit record's batch aside
    return {"requests": len(live), "seconds": seconds, "delays": delays}


def variant(root: Path, url: str, key: str, pid: int, runs: int, seconds: float, interval: float) -> dict:
    results: list[dict[str, Any]] = []
    cpu = cpu_seconds(pid)
    threads = [
        threading.Thread(
            target=lambda i=i: results.append(
                live_run(root, url, key, f"i{interval:g}r{i}".replace(".", "_"), seconds, interval)
            )
        )
        for i in range(runs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = cpu_seconds(pid) - cpu
    requests = sum(r["requests"] for r in results)
    delays = sorted(d for r in results for d in r["delays"])
    return {
        "requests_per_s_per_run": requests / runs / seconds,
        "delay_p50_s": statistics.median(delays),
        "delay_max_s": delays[-1],
        "server_cpu_ms_per_request": 1000 * cpu / max(requests, 1),
        "server_cpu_ms_per_run_second": 1000 * cpu / runs / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s per variant")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    seconds = args.seconds or (10.0 if args.quick else 30.0)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WAKELOG_CONFIG_DIR"] = str(Path(tmp) / "config")  # never the user's own
        proc, url, key = start_server(Path(tmp) / "server")
        try:
            before = variant(Path(tmp) / "before", url, key, proc.pid, args.runs, seconds, 0.0)
            after = variant(Path(tmp) / "after", url, key, proc.pid, args.runs, seconds, SEND_INTERVAL)
        finally:
            proc.terminate()
            proc.wait()
    print(f"live ingest: {args.runs} runs × {len(KEYS)} keys × {RATE:g} steps/s, {seconds:g} s, SQLite")
    print(f"{'per live run':<34}{'before':>10}{'after':>10}{'after/before':>14}")
    for label, name, budget in (
        ("requests/s", "requests_per_s_per_run", "≤ 1"),
        ("row → acked, p50 (s)", "delay_p50_s", ""),
        ("row → acked, max (s)", "delay_max_s", "≤ 2"),
        ("server CPU per request (ms)", "server_cpu_ms_per_request", "≤ 1"),
        ("server CPU per second of run (ms)", "server_cpu_ms_per_run_second", ""),
    ):
        ratio = after[name] / before[name] if before[name] else float("nan")
        print(f"{label:<34}{before[name]:>10.3f}{after[name]:>10.3f}{ratio:>13.2f}×  {budget}")
    if args.json:
        args.json.write_text(json.dumps({"before": before, "after": after}, indent=2))


if __name__ == "__main__":
    main()
