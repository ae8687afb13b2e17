"""Import speed (issue 15): 1M scalar points from a VisualDL log and from TensorBoard event files
into a real ``wakelog server`` on SQLite in ≤ 20 s each, memory bounded.

One tag, one point per step: one history row per point, the importer's worst case. The logs are
written first by the libraries themselves (VisualDL's ``LogWriter``, tensorboardX's
``SummaryWriter``; not timed); each import then runs in a fresh process (``import_run``, what
``wakelog import`` does, without its progress bar) against a server process on loopback, from the
first read to the server's ack of the last record. Memory: the importing process's peak RSS.
CPU: the seconds of CPU the importing process (reader and upload thread) and the server process
each used; on a busy machine these, not the wall time, say what the import costs (on an idle one
with two cores free the wall time is about the larger of the two, as the two overlap).

Floor: reading the log alone with its library's own reader, decoding every record — the least any
import must do. Ratios are the import's time over the floor's.

Run: python bench/import_speed.py [--quick] [--formats visualdl,tensorboard] [--json PATH]
(--quick: 100k points, the budget scaled to them)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BUDGET_S = 20.0
FULL_POINTS = 1_000_000
QUICK_POINTS = 100_000
T0 = 1_700_000_000.0
FORMATS = ("visualdl", "tensorboard")
HEADERS = [
    "format",
    "import",
    "rate",
    "floor (ratio)",
    "CPU: importer + server",
    "peak RSS",
    "log size",
    "server",
]


# -- children: write a log, read it (the floor), import it ---------------------------------------
def write(fmt: str, logdir: Path, points: int) -> None:
    if fmt == "visualdl":
        from visualdl import LogWriter

        with LogWriter(logdir=str(logdir)) as writer:
            for step in range(points):
                writer.add_scalar("loss", 1.0 / (step + 1), step, walltime=int((T0 + step) * 1000))
        return
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(str(logdir))
    for step in range(points):
        writer.add_scalar("loss", 1.0 / (step + 1), step, walltime=T0 + step)
    writer.close()


def floor(fmt: str, logdir: Path) -> dict[str, Any]:
    start = time.perf_counter()
    count = 0
    if fmt == "visualdl":
        from visualdl.proto.record_pb2 import Record
        from visualdl.reader.record_reader import RecordReader

        for path in sorted(logdir.glob("*vdlrecords*")):
            reader = RecordReader(str(path))
            while True:
                try:
                    Record.FromString(reader.get_next())
                except StopIteration:
                    break
                count += 1
    else:
        from wakelog.integration.tensorboard._reader import EventFile, library

        event = library().event
        for path in sorted(logdir.glob("*tfevents*")):
            with EventFile(path) as events:
                while (data := events.next()) is not None:
                    event.FromString(data)
                    count += 1
    return {"seconds": time.perf_counter() - start, "records": count}


def run_import(fmt: str, logdir: Path, url: str, key: str, state_dir: Path) -> dict[str, Any]:
    from wakelog.integration.importing import _tensorboard, _visualdl, import_run
    from wakelog.transport.client import ServerClient

    module = _visualdl if fmt == "visualdl" else _tensorboard
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    client = ServerClient(url, key)
    cpu = _cpu_seconds()
    start = time.perf_counter()
    reports = [import_run(source, client, state_dir) for source in module.sources(logdir, "bench")]
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu
    ack = client.ack(reports[0].run_path) if reports and reports[0].run_path else -1
    client.close()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "points": sum(r.points for r in reports),
        "records": sum(r.records for r in reports),
        "ack": ack,
        "errors": [r.error for r in reports if r.error] + [d for r in reports for d in r.damage],
        "rss_before_mb": rss_before / 1024,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(task: str, fmt: str, *args: str) -> None:
    if task == "write":
        write(fmt, Path(args[0]), int(args[1]))
        result: dict[str, Any] = {}
    elif task == "floor":
        result = floor(fmt, Path(args[0]))
    else:
        result = run_import(fmt, Path(args[0]), args[1], args[2], Path(args[3]))
    print(json.dumps(result))


def in_child(*args: Any, timeout: float = 1200) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# -- the parent ----------------------------------------------------------------------------------
def measure(fmt: str, work: Path, points: int, server: Any, url: str, key: str) -> dict[str, Any]:
    import psutil

    logdir = work / fmt / "log"
    in_child("write", fmt, logdir, points)
    floor_result = in_child("floor", fmt, logdir)
    before = psutil.Process(server.pid).cpu_times()
    result = in_child("import", fmt, logdir, url, key, work / fmt / "state")
    after = psutil.Process(server.pid).cpu_times()
    result["server_cpu_seconds"] = after.user + after.system - before.user - before.system
    result["floor_seconds"] = floor_result["seconds"]
    result["log_mb"] = sum(p.stat().st_size for p in logdir.iterdir()) / 2**20
    return result


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import Report, parser, table
    from server_ingest import start_server

    options = parser(__doc__ or "")
    options.add_argument("--formats", default=",".join(FORMATS), help="which to import (default: both)")
    args = options.parse_args()
    args.no_peers = True  # no peer imports into a server of its own
    points = QUICK_POINTS if args.quick else FULL_POINTS
    budget = BUDGET_S * points / FULL_POINTS
    report = Report("import_speed", args)
    report.header(f"wakelog import of {points:,} scalar points (one tag), SQLite server on loopback")
    rows, results = [], {}
    with tempfile.TemporaryDirectory(prefix="wakelog-bench-import-") as tmp:
        work = Path(tmp)
        proc, url, key = start_server(work / "server")
        try:
            for fmt in args.formats.split(","):
                r = results[fmt] = measure(fmt, work, points, proc, url, key)
                whole = r["points"] == points and r["ack"] == r["records"] - 1 and not r["errors"]
                ratio = r["seconds"] / r["floor_seconds"]
                rows.append(
                    [
                        fmt,
                        f"{r['seconds']:.1f} s",
                        f"{points / r['seconds'] / 1000:.0f}k points/s",
                        f"{r['floor_seconds']:.1f} s ({ratio:.1f}×)",
                        f"{r['cpu_seconds']:.1f} s + {r['server_cpu_seconds']:.1f} s",
                        f"{r['rss_peak_mb']:.0f} MB",
                        f"{r['log_mb']:.0f} MB",
                        "all" if whole else f"NOT ALL: {r['points']:,} points, {r['errors'][:2]}",
                    ]
                )
                report.budget(
                    f"{fmt} import",
                    r["seconds"],
                    budget,
                    "s",
                    f"{fmt}: {points:,} points imported in {r['seconds']:.1f} s (budget ≤ {budget:.0f} s; "
                    f"{r['seconds'] / budget:.2f}× the budget, {ratio:.1f}× the floor of reading the log "
                    f"alone, {r['floor_seconds']:.1f} s; CPU {r['cpu_seconds']:.1f} s importing + "
                    f"{r['server_cpu_seconds']:.1f} s server; peak RSS {r['rss_peak_mb']:.0f} MB)",
                )
        finally:
            proc.terminate()
            proc.wait()
    print()
    print(table(HEADERS, rows))
    report.data["results"] = results
    report.finish()
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
