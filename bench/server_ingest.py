"""Server budgets for getting data in (DESIGN.md §4), against a real `wakelog server` process.

* ingest: 10 concurrent runs posting record batches to SQLite — budget ≥ 500k points/s;
* drain: an online run logging 20k steps × 5 keys — from `finish()` to everything acknowledged by
  the server (queryable) — budget ≤ 1 s;
* disk: bytes per stored scalar point in the database — budget ≤ 16 (wandb ≈ 107, MLflow ≈ 263,
  Aim 150–220, from reference/peer-bench.md's sources).

Run: python bench/server_ingest.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import msgspec

KEYS = ("loss", "acc", "lr", "grad_norm", "throughput")


def run_concurrently(send: Callable[[Any], None], items: Iterable[Any]) -> float:
    """Seconds until ``send(item)`` has returned for every item, each in a thread of its own."""
    threads = [threading.Thread(target=send, args=(item,)) for item in items]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    data_dir: Path, workers: int = 1, extra: Iterable[str] = (), code: str | None = None
) -> tuple[subprocess.Popen, str, str]:
    """``wakelog server`` on a free port (``extra``: more options; ``code``: a checkout's ``src``
    folder to run instead of this one); its process, URL and admin key."""
    port = free_port()
    command = [sys.executable, "-m", "wakelog", "server", "--port", str(port), "--data-dir", str(data_dir)]
    proc = subprocess.Popen(
        [*command, "--workers", str(workers), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=None if code is None else {**os.environ, "PYTHONPATH": code},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not answers(f"{url}/api/v1/health", 300):
            raise RuntimeError("server did not start")
        key = data_dir / "admin.key"  # written only where the database had no user yet
        if not key.exists():
            raise RuntimeError(f"no {key}: give the server a database of its own (an empty one)")
        return proc, url, key.read_text().strip()
    except BaseException:
        proc.terminate()  # not left serving after the bench has stopped
        proc.wait()
        raise


def answers(url: str, tries: int) -> bool:
    """Whether GET ``url`` answers 200 within ``tries`` attempts, 0.1 s apart while refused."""
    for _ in range(tries):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            time.sleep(0.1)
    return False


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU of a process so far, or of one of its threads (``thread``: its id; the
    process's id names its main thread)."""
    stat = Path(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def batches(steps: int, per_batch: int) -> list[bytes]:
    """Pre-encoded request bodies for one run (encoding is the client's cost, not the server's)."""
    encoder = msgspec.msgpack.Encoder()
    now = time.time()
    bodies, seq = [], 0
    records = [[0, "run", now, {"name": "bench", "project": "ingest"}]]
    seq = 1
    for step in range(steps):
        row = {key: 1.0 / (step + 1 + i) for i, key in enumerate(KEYS)}
        row.update(_step=step, _runtime=step * 0.01, _timestamp=now + step * 0.01)
        records.append([seq, "history", now, row])
        seq += 1
        if len(records) >= per_batch:
            bodies.append(gzip.compress(encoder.encode(records), 1))
            records = []
    if records:
        bodies.append(gzip.compress(encoder.encode(records), 1))
    return bodies


def bench_ingest(url: str, key: str, runs: int, steps: int) -> dict[str, float]:
    bodies = batches(steps, per_batch=2000)
    errors: list[str] = []

    def send(run: int) -> None:
        with httpx.Client(base_url=url, auth=("api", key), timeout=120) as http:
            for body in bodies:
                response = http.post(
                    f"/api/v1/runs/bench/ingest/run{run}/records",
                    content=body,
                    headers={"Content-Encoding": "gzip", "Content-Type": "application/msgpack"},
                )
                if response.status_code != 200:
                    errors.append(response.text)

    elapsed = run_concurrently(send, range(runs))
    if errors:
        raise RuntimeError(errors[0])
    points = runs * steps * (len(KEYS) + 2)  # + _runtime and _timestamp, stored as series too
    return {
        "points": points,
        "seconds": elapsed,
        "points_per_s": points / elapsed,
        "user_points": runs * steps * len(KEYS),
    }


PEERS_VENV = Path(__file__).resolve().parent / ".venv-peers"


def bench_mlflow_server(workdir: Path, runs: int, steps: int) -> dict[str, float] | None:
    """MLflow's tracking server beside ours: the same rows through its REST log-batch endpoint
    (1,000 metrics per request, its limit), SQLite backend, from the same 10 threads."""
    mlflow = PEERS_VENV / "bin" / "mlflow"
    if not mlflow.exists():
        return None
    port = free_port()
    command = [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    command += ["--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}"]
    command += ["--default-artifact-root", str(workdir / "mlruns")]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/2.0/mlflow"
    try:
        if not answers(f"http://127.0.0.1:{port}/health", 900):
            return None
        experiment = httpx.post(f"{url}/experiments/create", json={"name": "ingest"}, timeout=60).json()
        run_ids = [
            httpx.post(
                f"{url}/runs/create", json={"experiment_id": experiment["experiment_id"]}, timeout=60
            ).json()["run"]["info"]["run_id"]
            for _ in range(runs)
        ]
        now = int(time.time() * 1000)
        metrics = [
            {"key": key, "value": 1.0 / (step + 1 + i), "timestamp": now + step, "step": step}
            for step in range(steps)
            for i, key in enumerate(KEYS)
        ]
        batches = [metrics[i : i + 1000] for i in range(0, len(metrics), 1000)]

        def send(run_id: str) -> None:
            with httpx.Client(timeout=600) as http:
                for batch in batches:
                    http.post(
                        f"{url}/runs/log-batch", json={"run_id": run_id, "metrics": batch}
                    ).raise_for_status()

        elapsed = run_concurrently(send, run_ids)
        points = runs * steps * len(KEYS)
        return {"points": points, "seconds": elapsed, "points_per_s": points / elapsed}
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def bench_drain(url: str, key: str, workdir: Path, steps: int) -> float:
    script = f"""
import time, wakelog
run = wakelog.init(project="drain")
for i in range({steps}):
    run.log({{"a": i * 0.1, "b": 1.0, "c": 2.0, "d": 3.0, "e": float(i)}})
start = time.perf_counter()
run.finish()
print(time.perf_counter() - start)
"""
    env = {
        **os.environ,
        "WAKELOG_MODE": "online",
        "WAKELOG_BASE_URL": url,
        "WAKELOG_API_KEY": key,
        "WAKELOG_SILENT": "true",
        "WAKELOG_CONSOLE": "off",
        "WAKELOG_CONFIG_DIR": str(Path(workdir) / "config"),  # never the user's own
    }
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=workdir, env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    parser.add_argument("--no-peers", action="store_true", help="skip MLflow's server")
    args = parser.parse_args()
    runs, steps = (10, 2000) if args.quick else (10, 20000)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "server"
        proc, url, key = start_server(data, args.workers)
        try:
            ingest = bench_ingest(url, key, runs, steps)
            drain = bench_drain(url, key, Path(tmp), 2000 if args.quick else 20000)
        finally:
            proc.terminate()
            proc.wait()
        mlflow = None if args.no_peers else bench_mlflow_server(Path(tmp), runs, 2000 if args.quick else 4000)
        db = data / "wakelog.db"
        import sqlite3

        conn = sqlite3.connect(db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.close()
        size = db.stat().st_size
        stored = ingest["points"] + (2000 if args.quick else 20000) * 7
    bytes_per_point = size / stored
    rate = ingest["points_per_s"]
    steps_label = "2k" if args.quick else "20k"
    lines = [
        f"ingest, SQLite, {runs} concurrent runs, {args.workers} server worker(s): {rate:,.0f} points/s "
        f"— budget ≥ 500,000 ({rate / 500_000:.2f}× budget); logged values alone "
        f"{ingest['user_points'] / ingest['seconds']:,.0f}/s",
        f"  {ingest['points']:,} points ({ingest['user_points']:,} logged values + _runtime/_timestamp) "
        f"in {ingest['seconds']:.2f} s",
        f"drain after finish(), online, {steps_label} steps × 5 keys: {drain:.3f} s — budget ≤ 1 s "
        f"({drain:.2f}× budget)",
        f"disk: {bytes_per_point:.1f} bytes per stored point (whole database, after VACUUM) — budget ≤ 16 "
        f"({bytes_per_point / 16:.2f}× budget); wandb ≈ 107 ({107 / bytes_per_point:.0f}× more), "
        f"MLflow ≈ 263 ({263 / bytes_per_point:.0f}× more)",
    ]
    if mlflow:
        ours = ingest["user_points"] / ingest["seconds"]
        lines.append(
            f"  MLflow server (SQLite, REST log-batch, same {runs} threads, {mlflow['points']:,} points): "
            f"{mlflow['points_per_s']:,.0f} points/s — wakelog's logged values arrive "
            f"{ours / mlflow['points_per_s']:.0f}× faster"
        )
    else:
        lines.append("  MLflow server: not measured (no bench/.venv-peers with mlflow, or --no-peers)")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(
            json.dumps({"ingest": ingest, "drain_s": drain, "bytes_per_point": bytes_per_point}, indent=1)
        )


if __name__ == "__main__":
    main()
