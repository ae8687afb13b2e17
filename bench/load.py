"""Load: N concurrent trainings against one real ``wakelog server``: nothing lost, nothing twice.

    python bench/load.py [--quick] [--backend sqlite|postgres] [--runs N] [--steps S] [--keys K]
                         [--rate STEPS_PER_S] [--deadline S] [--json PATH]

Each training is a real SDK process (``import wakelog``, online, its live uploader process) that
logs ``--steps`` steps × ``--keys`` keys at ``--rate`` steps per second, then ``finish()``es.
Default 50 × 5,000 × 10 (``--quick``: 10 × 1,000). The server is ``wakelog server`` on loopback
(``bench/_load_server.py``: the real command with each ingest request timed), on SQLite or on a
throwaway PostgreSQL cluster started as the tests start theirs. Afterwards every run is read back
through the API at full resolution and its stored chunks are counted:

* lost / duplicated points — budget 0 (ISSUE10: 0 lost, 0 duplicated, 0 stalled);
* stalled runs — not finished within ``--deadline`` s, or not shown finished by the server;
* ingest answers ≥ 500 — budget 0;
* p50 / p99 / max ingest request latency, server side (from the app receiving the request to the
  last byte of its answer), and the server's peak RSS (VmHWM) — reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from _common import LOADS, Report, parser, table
from server_ingest import free_port

ROOT = Path(__file__).resolve().parent.parent
ENTITY, PROJECT = "bench", "load"

TRAINING = """
import sys, time, wakelog
steps, keys, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
run = wakelog.init(name=sys.argv[4])
print(run.id, flush=True)
names = [f"m{k}" for k in range(keys)]
start = time.perf_counter()
for step in range(steps):
    run.log({name: step + k / 16 for k, name in enumerate(names)})
    if rate and step % 10 == 9:
        ahead = start + (step + 1) / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
run.finish()
"""


def value(step: int, k: int) -> float:
    """What training ``TRAINING`` logs for key ``m<k>`` at ``step``."""
    return step + k / 16


class Server:
    """``bench/_load_server.py`` on a free port, data in ``data_dir``; ``backend_store`` for PostgreSQL."""

    def __init__(self, data_dir: Path, backend_store: str | None, every_request: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.timings = data_dir.parent / "ingest-timings.txt"
        self.database_url = backend_store or f"sqlite:///{data_dir / 'wakelog.db'}"
        command = [
            sys.executable,
            str(Path(__file__).with_name("_load_server.py")),
            "--timings",
            str(self.timings),
            *(["--every-request"] if every_request else []),
        ]
        command += ["--port", str(self.port), "--data-dir", str(data_dir)]
        command += ["--backend-store", backend_store] if backend_store else []
        self.log = open(data_dir.parent / "server.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {self.log.name}")
            time.sleep(0.1)
        self.key = (data_dir / "admin.key").read_text().strip()

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def peak_rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def start_trainings(server: Server, work: Path, args: Any) -> list[subprocess.Popen[str]]:
    """Every training at once, each in a folder of its own."""
    env = {name: v for name, v in os.environ.items() if not name.startswith(("WAKELOG_", "WANDB_"))}
    env.update(
        WAKELOG_MODE="online",
        WAKELOG_BASE_URL=server.url,
        WAKELOG_API_KEY=server.key,
        WAKELOG_ENTITY=ENTITY,
        WAKELOG_PROJECT=PROJECT,
        WAKELOG_SILENT="true",
        WAKELOG_CONSOLE="off",
        WAKELOG_FINISH_TIMEOUT=str(args.deadline),
        WAKELOG_CONFIG_DIR=str(work / "config"),  # never the user's own
    )
    procs = []
    for i in range(args.runs):
        folder = work / f"train-{i}"
        folder.mkdir()
        command = [
            sys.executable,
            "-c",
            TRAINING,
            str(args.steps),
            str(args.keys),
            str(args.rate),
            f"load-{i}",
        ]
        procs.append(
            subprocess.Popen(
                command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    return procs


def wait_for(procs: list[subprocess.Popen[str]], deadline: float) -> list[dict[str, Any]]:
    """Each training's run id, exit code and seconds to exit (None: still running at the deadline)."""
    started = time.monotonic()
    ended: dict[int, float] = {}
    while len(ended) < len(procs) and time.monotonic() - started < deadline:
        for i, proc in enumerate(procs):
            if i not in ended and proc.poll() is not None:
                ended[i] = time.monotonic() - started
        LOADS.append(os.getloadavg()[0])  # Report flags figures taken on a busy machine
        time.sleep(0.2)
    results = []
    for i, proc in enumerate(procs):
        if i not in ended:
            proc.kill()
        out, err = proc.communicate()
        run_id = out.split()[0] if out.split() else None
        results.append(
            {"run_id": run_id, "rc": proc.returncode, "seconds": ended.get(i), "stderr": err[-2000:]}
        )
    return results


def end_uploaders(work: Path) -> None:
    """Kill the uploaders still running (those of stalled trainings): nothing outlives the bench.
    A pid counts only while its command line is this run folder's uploader (pids get reused)."""
    from wakelog.runlog.syncstate import SyncState

    for run_dir in work.glob("train-*/wakelog/*run-*"):
        pid = SyncState.load(run_dir).pid
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if pid else []
        except OSError:
            continue  # gone
        if b"wakelog.transport.uploader" in command and str(run_dir).encode() in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def read_back(server: Server, run_id: str, args: Any) -> dict[str, Any]:
    """Lost and duplicated points of one run, through the API and in the stored chunks; its state."""
    keys = [f"m{k}" for k in range(args.keys)]
    with httpx.Client(base_url=server.url, auth=("api", server.key), timeout=300) as http:
        state = http.get(f"/api/v1/runs/{ENTITY}/{PROJECT}/{run_id}").json().get("state")
        export = http.get(
            f"/api/v1/runs/{ENTITY}/{PROJECT}/{run_id}/history/export",
            params=[("format", "jsonl"), *(("keys", key) for key in keys)],
        )
    seen: Counter[tuple[int, int]] = Counter()
    wrong = 0
    for line in export.text.splitlines():
        row = json.loads(line)
        for k, key in enumerate(keys):
            if key in row:
                seen[(row["_step"], k)] += 1
                wrong += row[key] != value(row["_step"], k)
    expected = {(step, k) for step in range(args.steps) for k in range(args.keys)}
    stored = stored_points(server.database_url, run_id)
    return {  # a wrong value counts as lost, a point at a step never logged as a duplicate
        "state": state,
        "lost": len(expected - set(seen)) + wrong,
        "duplicated": sum(n - 1 for n in seen.values())
        + max(stored - len(seen), 0)
        + len(set(seen) - expected),
    }


def stored_points(database_url: str, run_id: str) -> int:
    """Points of the run's user keys in its stored history chunks (the store's own count)."""
    import sqlalchemy as sa

    from wakelog.store.database import normalise_url

    engine = sa.create_engine(normalise_url(database_url), poolclass=sa.pool.NullPool)
    query = sa.text(
        "select coalesce(sum(c.count), 0) from series_chunks c join runs r on r.id = c.run_pk "
        "where r.run_id = :run and c.stream = 0 and c.key like 'm%'"
    )
    try:
        with engine.connect() as conn:
            return int(conn.execute(query, {"run": run_id}).scalar_one())
    finally:
        engine.dispose()


def latencies(path: Path) -> tuple[list[float], Counter[int]]:
    times, statuses = [], Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        ms, status = line.split(maxsplit=2)[:2]
        times.append(float(ms))
        statuses[int(status)] += 1
    return sorted(times), statuses


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def postgres() -> tuple[Any, str]:
    """A throwaway PostgreSQL cluster (as the tests start one) and a fresh, upgraded database."""
    sys.path.insert(0, str(ROOT))
    from tests.server.conftest import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
    return cluster, database(cluster, "load")


def database(cluster: Any, name: str) -> str:
    """A fresh, upgraded database of ``cluster`` (``postgres()``'s) named after ``name``; its URL."""
    from tests.server.conftest import db_upgrade, fresh_database

    url: str = fresh_database(cluster.url, name)
    db_upgrade(url)
    return url


def measure(args: Any, tmp: Path) -> dict[str, Any]:
    cluster, backend_store = postgres() if args.backend == "postgres" else (None, None)
    try:
        (tmp / "server").mkdir()
        server = Server(tmp / "server" / "data", backend_store)
        try:
            started = time.monotonic()
            try:
                runs = wait_for(start_trainings(server, tmp, args), args.deadline)
            finally:
                end_uploaders(tmp)
            wall = time.monotonic() - started
            for run in runs:
                run.update(read_back(server, run["run_id"], args) if run["run_id"] else {"state": None})
            rss = server.peak_rss_mb()
        finally:
            server.stop()
        times, statuses = latencies(server.timings)
    finally:
        if cluster is not None:
            cluster.stop()
    return {"runs": runs, "wall_s": wall, "rss_mb": rss, "times": times, "statuses": statuses}


def report_figures(report: Report, args: Any, m: dict[str, Any]) -> None:
    runs, times, statuses = m["runs"], m["times"], m["statuses"]
    points = args.runs * args.steps * args.keys
    lost = sum(r.get("lost", args.steps * args.keys) for r in runs)
    duplicated = sum(r.get("duplicated", 0) for r in runs)
    stalled = [r for r in runs if r["seconds"] is None or r["rc"] != 0 or r["state"] != "finished"]
    errors = sum(n for status, n in statuses.items() if status >= 500)
    what = f"{args.runs} × {args.steps:,} steps × {args.keys} keys, {args.backend}"
    report.budget(
        "points lost", lost, 0, "points", f"points lost: {lost:,} of {points:,} ({what}) — budget 0"
    )
    report.budget(
        "points duplicated", duplicated, 0, "points", f"points duplicated: {duplicated:,} — budget 0"
    )
    report.budget(
        "runs stalled",
        len(stalled),
        0,
        "runs",
        f"runs stalled (not finished within {args.deadline:.0f} s, or not shown finished by the server): "
        f"{len(stalled)} — budget 0",
    )
    report.budget("ingest answers ≥ 500", errors, 0, "requests", f"ingest answers ≥ 500: {errors} — budget 0")
    p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
    done = [r["seconds"] for r in runs if r["seconds"] is not None]
    print(
        table(
            ["figure", "value"],
            [
                [
                    "ingest requests (answers)",
                    f"{len(times):,} ({', '.join(f'{s}: {n}' for s, n in sorted(statuses.items()))})",
                ],
                [
                    "ingest latency p50 / p99 / max (server side)",
                    f"{p50:.1f} / {p99:.1f} / {times[-1] if times else float('nan'):.1f} ms",
                ],
                ["server peak RSS (VmHWM)", f"{m['rss_mb']:.0f} MB"],
                [
                    "trainings: slowest to exit / all done",
                    f"{max(done, default=float('nan')):.1f} / {m['wall_s']:.1f} s",
                ],
            ],
        )
    )
    for run in stalled[:5]:
        report.note(f"stalled: {run['run_id']} rc={run['rc']} state={run['state']}: {run['stderr'][-300:]}")
    report.data["results"] = {
        "p50_ms": p50,
        "p99_ms": p99,
        "requests": len(times),
        "statuses": dict(statuses),
        "server_peak_rss_mb": m["rss_mb"],
        "wall_s": m["wall_s"],
        "runs": [{k: v for k, v in r.items() if k != "stderr"} for r in runs],
    }


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--runs", type=int, help="concurrent trainings (default 50; --quick 10)")
    p.add_argument("--steps", type=int, help="steps per training (default 5,000; --quick 1,000)")
    p.add_argument("--keys", type=int, default=10, help="keys logged per step (default 10)")
    p.add_argument("--rate", type=float, default=100.0, help="steps per second per training (0: flat out)")
    p.add_argument("--deadline", type=float, default=600.0, help="seconds until a training counts as stalled")
    args = p.parse_args()
    args.no_peers = True  # no peer runs this: wakelog against its budget only
    args.runs = args.runs or (10 if args.quick else 50)
    args.steps = args.steps or (1000 if args.quick else 5000)
    report = Report("load", args)
    report.header(f"{args.runs} concurrent trainings against one server ({args.backend})")
    with tempfile.TemporaryDirectory(prefix="wakelog-load-") as tmp:
        figures = measure(args, Path(tmp))
    report_figures(report, args, figures)
    report.finish()


if __name__ == "__main__":
    main()
