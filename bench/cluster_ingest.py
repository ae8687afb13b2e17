"""What ingest costs each tier of a team cluster: the sizing figures of docs/deploy.md.

    python bench/cluster_ingest.py [--quick]

Starts ``scripts/cluster.sh`` (nginx → 3 ``wakelog server`` replicas → PgBouncer in session mode →
PostgreSQL, and moto's S3) in a temporary folder, sends ingest batches through the proxy from
``--senders`` concurrent runs, and reads, for each shape, the CPU of each tier (user + system of
every process of that service's tree, from /proc, before and after), the WAL PostgreSQL wrote, and
the disk the series take after VACUUM. Shapes: a live run's second with 5 and with 50 keys (10 rows,
what the coalescing uploader sends once a second) and big batches (5,000 rows × 5 keys, what `wakelog
sync` sends). Values are noisy float64 (a loss curve plus noise), which compress worse than smooth
ones. The cluster is stopped at the end, whatever happened.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import msgspec
import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "cluster.sh"
HEADERS = {"Content-Encoding": "gzip", "Content-Type": "application/msgpack"}
#: (name, rows per request, keys per row, requests per sender); --quick divides the requests by 3.
SHAPES = [("live, 5 keys", 10, 5, 150), ("live, 50 keys", 10, 50, 150), ("big batches", 5000, 5, 20)]
TIERS = ["replica", "postgres", "pgbouncer", "proxy"]


def cluster(command: str, state: Path) -> None:
    env = {
        **os.environ,
        "WAKELOG_CLUSTER_PYTHON": sys.executable,
        "WAKELOG_CLUSTER_SERVER_ARGS": "--min-free 0",
    }
    subprocess.run(["bash", str(SCRIPT), command, str(state)], env=env, check=True, stdout=subprocess.DEVNULL)


def tier_cpu(state: Path) -> dict[str, float]:
    """CPU seconds so far of each tier: every process of each service's tree (PostgreSQL's backends
    are children of the postmaster), the reaped children's included."""
    totals = dict.fromkeys(TIERS, 0.0)
    for pidfile in (state / "pids").glob("*.pid"):
        tier = pidfile.stem.split("-")[0]
        if tier not in totals:
            continue
        try:
            leader = psutil.Process(int(pidfile.read_text()))
            procs = [leader, *leader.children(recursive=True)]
        except psutil.Error:
            continue
        for proc in procs:
            try:
                cpu = proc.cpu_times()
            except psutil.Error:
                continue
            totals[tier] += cpu.user + cpu.system + cpu.children_user + cpu.children_system
    return totals


def batches(rows: int, keys: int, requests: int, run_id: str) -> list[bytes]:
    encoder = msgspec.msgpack.Encoder()
    noise = random.Random(run_id)
    now = time.time()
    out = [gzip.compress(encoder.encode([[0, "run", now, {"id": run_id, "project": "sizing"}]]), 1)]
    seq = 0
    for request in range(requests):
        records = []
        for row in range(rows):
            seq += 1
            step = request * rows + row
            values = {f"k{k}": 1.0 / (step + 1 + k) + noise.gauss(0, 0.01) for k in range(keys)}
            records.append([seq, "history", now, {**values, "_step": step}])
        out.append(gzip.compress(encoder.encode(records), 1))
    return out


def send(url: str, key: str, run_id: str, payloads: list[bytes], failures: list[str]) -> None:
    with httpx.Client(base_url=url, auth=("api", key), timeout=120) as client:
        for body in payloads:
            response = client.post(
                f"/api/v1/runs/admin/sizing/{run_id}/records", content=body, headers=HEADERS
            )
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")
                return


def measure(
    state: Path, settings: dict[str, str], shape: tuple[str, int, int, int], senders: int
) -> list[str]:
    name, rows, keys, requests = shape
    key = (state / "admin.key").read_text().strip()
    runs = [f"{uuid.uuid4().hex[:8]}" for _ in range(senders)]
    payloads = {run: batches(rows, keys, requests, run) for run in runs}  # encoded before the clock starts
    with psycopg.connect(postgres_url(settings), autocommit=True) as pg:
        lsn = pg.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        before, started = tier_cpu(state), time.monotonic()
        failures: list[str] = []
        threads = [
            threading.Thread(target=send, args=(settings["PROXY_URL"], key, run, payloads[run], failures))
            for run in runs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        after = tier_cpu(state)
        wal = pg.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn,)).fetchone()[0]
    if failures:
        raise SystemExit(f"{name}: {len(failures)} requests failed, first: {failures[0]}")
    sent = senders * requests
    points = sent * rows * keys
    per_request = [f"{1000 * (after[t] - before[t]) / sent:.2f} ms" for t in TIERS]
    per_point = f"{1e6 * (after['replica'] - before['replica']) / points:.2f} / " + (
        f"{1e6 * (after['postgres'] - before['postgres']) / points:.2f} µs"
    )
    return [name, f"{sent}", f"{points / wall:,.0f}", *per_request, per_point, f"{float(wal) / points:.0f} B"]


def series_bytes_per_point(settings: dict[str, str]) -> str:
    """The encoded points alone, and the table on disk after VACUUM: live ingest rewrites open tail
    chunks, whose dead versions VACUUM frees for reuse inside the table but does not give back."""
    with psycopg.connect(postgres_url(settings), autocommit=True) as pg:
        pg.execute("VACUUM ANALYZE series_chunks")
        size, data, points = pg.execute(
            "SELECT pg_total_relation_size('series_chunks'), sum(length(data)), sum(count) FROM series_chunks"
        ).fetchone()
    return (
        f"{data / points:.1f} bytes per stored point encoded; series_chunks on disk {size / points:.1f} "
        f"bytes per point after VACUUM ({points:,} points)"
    )


def postgres_url(settings: dict[str, str]) -> str:
    return f"postgresql://postgres@127.0.0.1:{settings['PG_PORT']}/wakelog"


def replica_rss(state: Path) -> str:
    rss = [
        psutil.Process(int(p.read_text())).memory_info().rss / 2**20
        for p in (state / "pids").glob("replica-*.pid")
    ]
    return ", ".join(f"{mb:.0f}" for mb in sorted(rss)) + " MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a third of the requests")
    parser.add_argument("--senders", type=int, default=4, help="concurrent runs sending (default 4)")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="wakelog-cluster-bench-"))
    try:
        cluster("up", state)
        text = (state / "cluster.env").read_text()
        settings = {k: shlex.split(v)[0] if v else "" for k, v in re.findall(r"(\w+)=(.*)", text)}
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        rows = []
        for name, size, keys, requests in SHAPES:
            shape = (name, size, keys, max(requests // 3, 5) if args.quick else requests)
            rows.append(measure(state, settings, shape, args.senders))
        headers = ["shape", "requests", "points/s", *(f"{t} CPU/request" for t in TIERS)]
        headers += ["replica / PG CPU per point", "WAL per point"]
        print("| " + " | ".join(headers) + " |\n|" + "---|" * len(headers))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print(series_bytes_per_point(settings))
        print(f"replica RSS: {replica_rss(state)}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        cluster("down", state)
        subprocess.run(["rm", "-rf", str(state)], check=False)


if __name__ == "__main__":
    main()
