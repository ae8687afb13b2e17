"""The stock ``wandb`` client into wakelog (issue 16's budgets), beside wakelog's own SDK.

    python bench/wandb_client.py [--quick] [--rows N] [--reps K] [--runs R] [--run-rows M]
                                 [--client DIR] [--json PATH]

The client is the real ``wandb`` package (``WANDB_BASE_URL`` and ``WANDB_API_KEY`` only), from
``--client`` (default: the ``wandb-client`` folder of this interpreter's venv, where
``scripts/test.sh`` installs it). The server is ``wakelog server`` on loopback, on SQLite, run by
``bench/_load_server.py`` so that it notes the status of every answer it gives.

* sustained: one run logs ``--rows`` rows (default 20,000; ``--quick`` 5,000) of five scalars as
  fast as it can. Figure: rows/s from the first ``log()`` to every row readable on the server (the
  parent polls the run's ``last_step``, with a deadline), then every value is read back. Budget
  ≥ 20,000 rows/s. Beside it the same script through ``import wakelog as wandb`` online into the
  same server, and the client's own ``log()`` loop alone (what the server cannot make faster).
  ``--reps`` times each (default 2), interleaved; the median is the figure.
* concurrent: ``--runs`` stock-client runs (default 50; ``--quick`` 10), separate processes
  started together, each logging ``--run-rows`` rows (default 2,000): every client exits 0, the
  server answers no request ≥ 500, every row of every run reads back; the total time and the
  server's CPU in it are reported. The clients run at ``--client-nice`` (default 10): 50 Pythons
  and 50 wandb-core processes on the server's two cores would otherwise leave it a few percent of
  a core, which clients on machines of their own never do (and their 90 s init timeout fires).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from _adapters import KEYS, make_row
from _common import BENCH, Report, parser, table
from load import Server
from server_ingest import cpu_seconds

BUDGET_ROWS_PER_S = 20_000
PROJECT = "client-bench"
#: How often the parent asks the server for the run's last step (each ask costs the server ~3 ms
#: of the CPUs the client needs too).
POLL_S = 0.05
#: Rows per file-stream request in the server-alone replay (the client sends what it gathered in
#: its transmit interval: thousands of rows at full speed).
REPLAY_BATCH = 5_000
SERVER_ALONE = "server alone"
#: The run script, for both clients (``MODULE``): init, the rows as fast as it can, finish. It
#: writes ``started.json`` (run and first log() time) before the loop, ``done.json`` at the end.
SCRIPT = """
import json, os, sys, time
from pathlib import Path
import MODULE as wandb
from _adapters import make_row

rows, name, signals = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])

def signal(file, data):
    (signals / "part").write_text(json.dumps(data))
    os.replace(signals / "part", signals / file)

run = wandb.init(project="PROJECT", name=name)
start = time.time()
signal("started.json", {"id": run.id, "entity": run.entity, "start": start})
for i in range(rows):
    run.log(make_row(i))
logged = time.time()
run.finish()
signal("done.json", {"logged": logged, "finished": time.time()})
""".replace("PROJECT", PROJECT)


def default_client() -> Path:
    return Path(os.environ.get("WAKELOG_TEST_WANDB_CLIENT") or Path(sys.prefix) / "wandb-client")


class Launcher:
    """Starts run scripts of either client against ``server``, each in a folder of its own."""

    def __init__(self, server: Server, work: Path, client: Path) -> None:
        self.server, self.work, self.client = server, work, client
        self.base = {n: v for n, v in os.environ.items() if not n.startswith(("WAKELOG_", "WANDB_"))}

    def env(self, module: str, folder: Path) -> dict[str, str]:
        """Either client's environment: the server, and its own home and config folders (never
        the user's: the SDK online notes the entity it logged to in its config folder)."""
        home = folder / "home"
        home.mkdir()
        if module == "wandb":
            return {
                **self.base,
                "HOME": str(home),
                "PYTHONPATH": os.pathsep.join([str(self.client), str(BENCH)]),  # the real wandb first
                "WANDB_BASE_URL": self.server.url,
                "WANDB_API_KEY": "local-" + self.server.key,
                "WANDB_DIR": str(folder),
                "WANDB_CONFIG_DIR": str(home / "config"),
                "WANDB_CACHE_DIR": str(home / "cache"),
                "WANDB_DATA_DIR": str(home / "data"),
                "WANDB_SILENT": "true",
                "WANDB_CONSOLE": "off",
            }
        return {
            **self.base,
            "HOME": str(home),
            "WAKELOG_CONFIG_DIR": str(home / "config"),
            "PYTHONPATH": os.pathsep.join(filter(None, [self.base.get("PYTHONPATH"), str(BENCH)])),
            "WAKELOG_MODE": "online",
            "WAKELOG_BASE_URL": self.server.url,
            "WAKELOG_API_KEY": self.server.key,
            "WAKELOG_DIR": str(folder),
            "WAKELOG_SILENT": "true",
            "WAKELOG_CONSOLE": "off",
        }

    def start(self, module: str, name: str, rows: int, nice: int = 0) -> tuple[subprocess.Popen[str], Path]:
        """One run script; ``nice``: its scheduling priority lowered by that much (as if on a
        machine of its own: the server is not starved by the clients beside it)."""
        folder = self.work / name
        folder.mkdir()
        niced = ["nice", "-n", str(nice)] if nice else []
        proc = subprocess.Popen(
            [*niced, sys.executable, "-c", SCRIPT.replace("MODULE", module), str(rows), name, str(folder)],
            cwd=folder,
            env=self.env(module, folder),
            stdout=subprocess.DEVNULL,
            stderr=open(folder / "stderr.txt", "w"),  # noqa: SIM115  (the child holds it)
            text=True,
        )
        return proc, folder


def wait_for(what: str, check: Callable[[], Any], deadline: float) -> Any:
    """``check()``'s first truthy answer, polled until ``deadline`` (monotonic)."""
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(POLL_S)


def signal_of(folder: Path, name: str, proc: subprocess.Popen[str]) -> dict[str, Any] | None:
    path = folder / name
    if path.exists():
        return json.loads(path.read_text())
    if proc.poll() is not None:
        err = (folder / "stderr.txt").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{folder.name} exited with {proc.returncode} before {name}:\n{err}")
    return None


def client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=("api", server.key), timeout=60)


def last_step(http: httpx.Client, entity: str, run_id: str) -> int:
    answer = http.get(f"/api/v1/runs/{entity}/{PROJECT}/{run_id}")
    return answer.json()["last_step"] if answer.status_code == 200 else -1  # 404: not there yet


def missing_values(http: httpx.Client, entity: str, run_id: str, rows: int) -> int:
    """How many of the run's ``rows`` × KEYS values are not what was logged (lost, or extra)."""
    got: dict[int, dict[str, Any]] = {}
    step: int | None = 0
    while step is not None:
        answer = http.get(
            f"/api/v1/runs/{entity}/{PROJECT}/{run_id}/history/rows",
            params={"min_step": step, "page_size": 100_000, "keys": list(KEYS)},
        )
        answer.raise_for_status()
        page = answer.json()
        for row in page["rows"]:
            got[row["_step"]] = row
        step = page["next_step"]
    wrong = sum(len(KEYS) for s in got if not 0 <= s < rows)  # rows nobody logged
    for i in range(rows):
        row = got.get(i, {})
        wrong += sum(1 for key, value in make_row(i).items() if row.get(key) != value)
    return wrong


def sustained(launcher: Launcher, module: str, name: str, rows: int, timeout: float) -> dict[str, Any]:
    """One run of ``module`` logging ``rows`` rows: first log() → every row on the server."""
    server = launcher.server
    proc, folder = launcher.start(module, name, rows)
    deadline = time.monotonic() + timeout
    try:
        started = wait_for("the run to start", lambda: signal_of(folder, "started.json", proc), deadline)
        cpu = cpu_seconds(server.proc.pid)
        with client(server) as http:
            wait_for(
                f"{rows} rows of {name} on the server",
                lambda: last_step(http, started["entity"], started["id"]) >= rows - 1,
                deadline,
            )
            arrived = time.time()
            server_cpu = cpu_seconds(server.proc.pid) - cpu
            done = wait_for("the script to end", lambda: signal_of(folder, "done.json", proc), deadline)
            proc.wait(max(1.0, deadline - time.monotonic()))
            wrong = missing_values(http, started["entity"], started["id"], rows)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seconds = arrived - started["start"]
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "log_loop_rows_per_s": rows / (done["logged"] - started["start"]),
        "server_cpu_ms_per_1k_rows": 1000 * server_cpu / rows * 1000,
        "exit_code": proc.returncode,
        "wrong_values": wrong,
    }


def replay(server: Server, name: str, rows: int) -> dict[str, Any]:
    """The server alone: ``rows`` history lines posted to the file stream as the client words
    them, ``REPLAY_BATCH`` per request, then the exit; rows/s and the server's CPU per 1k rows."""
    now = time.time()
    lines = [
        json.dumps({**make_row(i), "_step": i, "_runtime": i * 1e-4, "_timestamp": now + i * 1e-4})
        for i in range(rows)
    ]
    bodies = [
        json.dumps(
            {
                "files": {
                    "wandb-history.jsonl": {"offset": start, "content": lines[start : start + REPLAY_BATCH]}
                }
            }
        )
        for start in range(0, rows, REPLAY_BATCH)
    ]
    bodies.append(json.dumps({"complete": True, "exitcode": 0}))
    url = f"/files/admin/{PROJECT}/{name}/file_stream"
    with client(server) as http:
        cpu = cpu_seconds(server.proc.pid)
        start = time.perf_counter()
        for body in bodies:
            http.post(url, content=body, headers={"Content-Type": "application/json"}).raise_for_status()
        seconds = time.perf_counter() - start
        server_cpu = cpu_seconds(server.proc.pid) - cpu
        wrong = missing_values(http, "admin", name, rows)
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "server_cpu_ms_per_1k_rows": 1000 * server_cpu / rows * 1000,
        "wrong_values": wrong,
    }


def error_line(stderr: Path) -> str:
    """The line of a client's stderr that names its error (the last one with "Error" in it)."""
    lines = stderr.read_text(errors="replace").strip().splitlines() or ["(no output)"]
    return next((line for line in reversed(lines) if "Error" in line), lines[-1])[:300]


def concurrent(launcher: Launcher, runs: int, rows: int, timeout: float, nice: int) -> dict[str, Any]:
    """``runs`` stock-client runs at once; every exit code, and every row of every run."""
    cpu = cpu_seconds(launcher.server.proc.pid)
    start = time.monotonic()
    started = [launcher.start("wandb", f"c{i:02d}", rows, nice) for i in range(runs)]
    deadline = start + timeout
    codes = []
    for proc, _ in started:
        try:
            codes.append(proc.wait(max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    ended = time.monotonic() - start
    server_cpu = cpu_seconds(launcher.server.proc.pid) - cpu
    wrong, failed = 0, []
    with client(launcher.server) as http:
        for (_, folder), code in zip(started, codes, strict=True):
            if code != 0 or not (folder / "started.json").exists():
                failed.append(f"{folder.name}: exit {code}: {error_line(folder / 'stderr.txt')}")
                continue
            run = json.loads((folder / "started.json").read_text())
            wrong += missing_values(http, run["entity"], run["id"], rows)
    return {
        "runs": runs,
        "rows": rows,
        "seconds": ended,
        "server_cpu_s": server_cpu,
        "nice": nice,
        "failed": failed,
        "wrong_values": wrong,
    }


def answers(timings: Path) -> Counter[tuple[int, str, str]]:
    """The server's answers by (status, method, route): ids and tokens in the path left out."""
    found: Counter[tuple[int, str, str]] = Counter()
    for line in timings.read_text(encoding="utf-8").splitlines():
        _, status, _, method, path = line.split(maxsplit=4)
        parts = path.split("/")
        route = "/".join(parts[:3]) + (
            "/…/" + parts[-1] if len(parts) > 4 else "/…" if len(parts) > 3 else ""
        )
        found[(int(status), method, route)] += 1
    return found


def server_errors(log: Path) -> list[str]:
    """The exceptions the server logged (their last line each), for the answers ≥ 500."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    ends = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    found: Counter[str] = Counter()
    for start in ends:
        tail = next((line for line in lines[start + 1 :] if not line.startswith((" ", "Traceback"))), "?")
        found[tail[:200]] += 1
    return [f"{n}× {line}" for line, n in found.most_common()]


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, help="rows of the sustained run (default 20,000; quick 5,000)")
    p.add_argument("--reps", type=int, default=2, help="sustained runs per client (default 2)")
    p.add_argument("--runs", type=int, help="concurrent stock-client runs (default 50; quick 10)")
    p.add_argument("--run-rows", type=int, default=2000, help="rows per concurrent run (default 2,000)")
    p.add_argument(
        "--client-nice",
        type=int,
        default=10,
        help="niceness of the concurrent clients (default 10: 100 client processes on the server's "
        "cores would otherwise starve it, which clients on their own machines do not; 0: off)",
    )
    p.add_argument("--client", type=Path, default=default_client(), help="folder holding the wandb package")
    p.add_argument("--timeout", type=float, default=600, help="deadline of each phase, seconds")
    args = p.parse_args()
    rows = args.rows or (5_000 if args.quick else 20_000)
    runs = args.runs or (10 if args.quick else 50)
    args.no_peers = True  # no peer SDKs here: the stock client is what is measured
    report = Report("wandb_client", args)
    report.header("the stock wandb client's throughput into wakelog, and many of its runs at once")
    if not (args.client / "wandb" / "__init__.py").exists():
        report.note(f"skipped: no wandb client in {args.client} (scripts/test.sh installs it; or --client)")
        report.finish()
        return
    version = next(importlib.metadata.distributions(name="wandb", path=[str(args.client)])).version
    report.data["versions"]["wandb client"] = version
    report.note(f"the stock client: wandb {version}, from {args.client}")
    with tempfile.TemporaryDirectory(prefix="wakelog-bench-wandb-") as tmp:
        os.environ["WAKELOG_CONFIG_DIR"] = str(Path(tmp) / "config")  # never the user's own
        (Path(tmp) / "server").mkdir()
        server = Server(Path(tmp) / "server" / "data", None, every_request=True)
        launcher = Launcher(server, Path(tmp), args.client)
        try:
            results: dict[str, list[dict[str, Any]]] = {"wandb": [], "wakelog": [], SERVER_ALONE: []}
            for rep in range(args.reps):
                order = ["wandb", "wakelog", SERVER_ALONE]
                for module in order[rep % 3 :] + order[: rep % 3]:  # drift spread over all three
                    print(f"  … {module} sustained, rep {rep + 1}/{args.reps}", file=sys.stderr, flush=True)
                    name = f"{module.split()[0]}-{rep}"
                    results[module].append(
                        replay(server, name, rows)
                        if module == SERVER_ALONE
                        else sustained(launcher, module, name, rows, args.timeout)
                    )
            print(f"  … {runs} concurrent wandb runs", file=sys.stderr, flush=True)
            many = concurrent(launcher, runs, args.run_rows, args.timeout, args.client_nice)
        finally:
            server.stop()
        by_route = answers(server.timings)
        crashes = server_errors(Path(server.log.name))
    print_results(report, results, many, by_route, rows)
    for crash in crashes:
        print("  server: " + crash)
    report.data["results"] = {
        "sustained": results,
        "concurrent": many,
        "answers": [[*key, n] for key, n in sorted(by_route.items())],
        "server_errors": crashes,
    }
    report.finish()


def print_results(
    report: Report,
    results: dict[str, list[dict[str, Any]]],
    many: dict[str, Any],
    by_route: Counter[tuple[int, str, str]],
    rows: int,
) -> None:
    def figure(module: str, key: str) -> float:
        return statistics.median(r[key] for r in results[module])

    theirs, ours = figure("wandb", "rows_per_s"), figure("wakelog", "rows_per_s")
    alone, loop = figure(SERVER_ALONE, "rows_per_s"), figure("wandb", "log_loop_rows_per_s")
    print(
        table(
            [
                "client",
                "rows/s (first log → all on server)",
                "log() loop alone, rows/s",
                "server CPU ms / 1k rows (polls included)",
                "wrong values",
            ],
            [
                [
                    module,
                    " / ".join(f"{r['rows_per_s']:,.0f}" for r in results[module]),
                    " / ".join(
                        f"{r['log_loop_rows_per_s']:,.0f}"
                        for r in results[module]
                        if "log_loop_rows_per_s" in r
                    ),
                    " / ".join(f"{r['server_cpu_ms_per_1k_rows']:.1f}" for r in results[module]),
                    sum(r["wrong_values"] for r in results[module]),
                ]
                for module in results
            ],
        )
    )
    print()
    report.budget(
        "wandb client rows/s",
        theirs,
        BUDGET_ROWS_PER_S,
        "rows/s",
        f"stock wandb client, one run, {rows:,} rows × {len(KEYS)} keys: {theirs:,.0f} rows/s — budget "
        f"≥ {BUDGET_ROWS_PER_S:,} ({theirs / BUDGET_ROWS_PER_S:.2f}× budget); wakelog's SDK online "
        f"into the same server {ours:,.0f} rows/s (the client at {theirs / ours:.2f}× wakelog's)",
        shown=f"{theirs:,.0f} rows/s",
        at_least=True,
        limit=f"≥ {BUDGET_ROWS_PER_S:,}",
        peers={"wakelog SDK": f"{ours:,.0f} rows/s"},
    )
    report.note(
        f"  the client's own log() loop alone: {loop:,.0f} rows/s (no server can make it faster); the "
        f"server alone, the same rows replayed as the file stream words them ({REPLAY_BATCH:,} per "
        f"request): {alone:,.0f} rows/s ({alone / BUDGET_ROWS_PER_S:.1f}× budget)"
    )
    wrong = sum(r["wrong_values"] for rs in results.values() for r in rs)
    exits = [r["exit_code"] for rs in results.values() for r in rs if "exit_code" in r]
    report.budget(
        "sustained runs read back",
        float(wrong + sum(1 for code in exits if code)),
        0.0,
        "errors",
        "every value of the sustained runs read back as logged: "
        + ("yes" if not wrong else f"NO, {wrong} wrong")
        + f"; exit codes {exits}",
        shown="all" if not wrong else f"{wrong} wrong",
        limit="all",
    )
    errors = sum(n for (status, _, _), n in by_route.items() if status >= 500)
    bad = len(many["failed"]) + many["wrong_values"] + errors
    report.budget(
        "concurrent wandb runs",
        float(bad),
        0.0,
        "errors",
        f"{many['runs']} concurrent stock-client runs × {many['rows']:,} rows, SQLite, clients at "
        f"nice {many['nice']}: "
        f"{many['runs'] - len(many['failed'])}/{many['runs']} exited 0, {errors} answers ≥ 500, "
        f"{many['wrong_values']} values wrong or missing, all done in {many['seconds']:.1f} s "
        f"({many['runs'] * many['rows'] / many['seconds']:,.0f} rows/s in all; the server used "
        f"{many['server_cpu_s']:.1f} s of CPU in that time)",
        shown=f"{many['runs']} runs, {bad} errors",
        limit="0 errors",
    )
    refused = sorted((key, n) for key, n in by_route.items() if key[0] >= 300)
    print(
        f"server answers (whole benchmark): {sum(by_route.values()):,}, of them not 2xx: "
        + (", ".join(f"{n}× {status} {method} {route}" for (status, method, route), n in refused) or "none")
    )
    for failure in many["failed"]:
        print("  " + failure)


if __name__ == "__main__":
    main()
