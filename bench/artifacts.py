"""Artifacts: the budgets of issue 13.

    python bench/artifacts.py [--quick] [--files N] [--big-mb M] [--json PATH]

Small files (default 10,000; ``--quick`` 1,000), in one process against the in-process server:

* ``log_artifact`` returns in ≤ 50 ms (hashing and copying happen on the run's artifact thread).
  Floor: one ``queue.put`` per file.
* their upload on SQLite (the real uploader and app in one process, ``tests/harness.py``) ≤ 15 s
  from the start of the upload until the version exists. Floor: what any upload must do — read
  and hash every file once (md5 + sha256) and create each content's file once on the server.
* a second version with one changed file uploads exactly one content; a second download with a
  warm cache makes no blob request (both counted).

A big file (default 2 GiB; ``--quick`` 256 MiB) against a real ``wakelog server`` process: the
uploader process (``python -m wakelog.transport.uploader``, as ``wakelog sync`` runs it) is killed
with SIGKILL half-way, a second one resumes where the server's staged upload stands and commits
the version once. RSS growth ≤ 100 MB on both sides (peak minus the RSS when the upload began).
Floor: reading and hashing the file once.
"""

from __future__ import annotations

import hashlib
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

RETURN_BUDGET_MS = 50.0
UPLOAD_BUDGET_S = 15.0
RSS_BUDGET_MB = 100.0
MIB = 1024 * 1024


# -- small files ------------------------------------------------------------------------------------
def write_files(root: Path, n: int, changed: int | None = None) -> None:
    for i in range(n):
        path = root / f"d{i % 100:02d}" / f"f{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"sample {i}{' changed' if i == changed else ''}\n")


def log_run(work: Path, n: int, changed: int | None) -> tuple[Path, float]:
    import wakelog

    data = work / f"data-{changed}"
    write_files(data, n, changed)
    run = wakelog.init(mode="offline", project="bench", entity="bench", dir=str(work / f"run-{changed}"))
    artifact = wakelog.Artifact("small-files", "dataset")
    artifact.add_dir(data)
    start = time.perf_counter()
    run.log_artifact(artifact)
    returned = time.perf_counter() - start
    run_dir = Path(run.run_dir)
    run.finish()
    return run_dir, returned


def small_floors(data: Path, n: int, scratch: Path) -> tuple[float, float]:
    """(n queue puts, reading + hashing every file and creating one file per content)."""
    q: queue.Queue[int] = queue.Queue()
    start = time.perf_counter()
    for i in range(n):
        q.put(i)
    put = time.perf_counter() - start
    scratch.mkdir()
    start = time.perf_counter()
    for i, path in enumerate(data.rglob("*.txt")):
        content = path.read_bytes()
        hashlib.md5(content).digest()
        hashlib.sha256(content).digest()
        (scratch / str(i)).write_bytes(content)
    return put, time.perf_counter() - start


def bench_small(work: Path, n: int) -> dict[str, Any]:
    from tests.harness import CountingTransport, InProcessServer, upload
    from wakelog.sdk.artifacts._resolve import fetch
    from wakelog.transport.artifacts import HttpArtifactServer

    with InProcessServer(work / "server") as server:
        run_dir, returned = log_run(work, n, None)
        put_floor, upload_floor = small_floors(work / "data-None", n, work / "floor")
        start = time.perf_counter()
        state = upload(server, run_dir)
        uploaded = time.perf_counter() - start
        assert next(iter(state.artifacts.values()))["version"] == "v0", state.artifacts
        second_dir, _ = log_run(work, n, changed=7)
        counted = CountingTransport(server.transport())
        upload(server, second_dir, transport=counted)
        reading = CountingTransport(server.transport())
        artifacts = HttpArtifactServer(server.base_url, server.key, transport=reading)
        os.environ["WAKELOG_CACHE_DIR"] = str(work / "cache")
        fetch(artifacts, "bench/bench/small-files:v1", entity=None, project=None).download(work / "one")
        first_files = reading.count("GET", "/files/")
        fetch(artifacts, "bench/bench/small-files:v1", entity=None, project=None).download(work / "two")
        artifacts.close()
    return {
        "files": n,
        "return_ms": returned * 1e3,
        "return_floor_ms": put_floor * 1e3,
        "upload_s": uploaded,
        "upload_floor_s": upload_floor,
        "uploaded_for_one_change": len(counted.uploaded),
        "first_download_requests": first_files,
        "warm_download_requests": reading.count("GET", "/files/") - first_files,
    }


# -- one big file, killed half-way ------------------------------------------------------------------
def generated_file(path: Path, size: int) -> None:
    """``size`` bytes that do not repeat block to block, written a MiB at a time."""
    with open(path, "wb") as f:
        for i in range(size // MIB):
            f.write(hashlib.sha256(i.to_bytes(8, "big")).digest() * (MIB // 32))


class Peak:
    """Samples a process's RSS every 20 ms from ``begin()`` until ``stop()``: the growth is the
    peak minus the RSS when it began."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process, self.base, self.peak = psutil.Process(pid), 0, 0
        self._done = threading.Event()

    def begin(self) -> None:
        self.base = self.peak = self.process.memory_info().rss
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        import psutil

        while not self._done.wait(0.02):
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return

    def stop(self) -> float:
        self._done.set()
        return (self.peak - self.base) / 1e6


def uploader(run_dir: Path, run_id: str, url: str, key: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "wakelog.transport.uploader", str(run_dir), "--base-url", url]
    command += ["--entity", "bench", "--project", "big", "--run-id", run_id, "--linger", "60"]
    return subprocess.Popen(command, env={**os.environ, "WAKELOG_API_KEY": key}, stderr=subprocess.PIPE)


def received(http: httpx.Client, status: str) -> int:
    return int(http.get(status).json()["received"])


def wait_for(condition: Any, what: str, deadline: float = 600.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.01)


def bench_big(work: Path, size: int) -> dict[str, Any]:
    import wakelog
    from server_ingest import start_server

    work.mkdir(parents=True)
    big = work / "big.bin"
    generated_file(big, size)
    start = time.perf_counter()
    sha = hashlib.sha256()
    with open(big, "rb") as f:
        while block := f.read(MIB):
            sha.update(block)
    floor = time.perf_counter() - start
    with wakelog.init(mode="offline", project="big", entity="bench", dir=str(work)) as run:
        artifact = wakelog.Artifact("big", "model")
        artifact.add_file(str(big), policy="immutable")
        start = time.perf_counter()
        run.log_artifact(artifact)
        returned = time.perf_counter() - start
        run_dir, run_id = Path(run.run_dir), run.id
    proc, url, key = start_server(work / "server")
    status = f"/api/v1/runs/bench/big/{run_id}/blobs/{sha.hexdigest()}"
    try:
        with httpx.Client(base_url=url, auth=("api", key), timeout=60) as http:
            received(http, status)  # the server has served a request: its resting RSS
            server_rss = Peak(proc.pid)
            server_rss.begin()
            first = uploader(run_dir, run_id, url, key)
            wait_for(lambda: received(http, status) > 0, "the first chunk")
            client_rss = Peak(first.pid)
            client_rss.begin()
            start = time.perf_counter()
            wait_for(lambda: received(http, status) >= size // 2, "half of the file")
            first.send_signal(signal.SIGKILL)
            first.communicate()
            first_mb = client_rss.stop()
            killed_at = received(http, status)
            second = uploader(run_dir, run_id, url, key)
            wait_for(lambda: received(http, status) > killed_at or second.poll() is not None, "the resume")
            resumed_rss = Peak(second.pid)
            resumed_rss.begin()
            _, err = second.communicate(timeout=1200)
            uploaded = time.perf_counter() - start
            assert second.returncode == 0, err.decode()
            second_mb, server_mb = resumed_rss.stop(), server_rss.stop()
            versions = http.get("/api/v1/artifacts/bench/big/big/versions").json()
            assert [(v["version"], v["digest"]) for v in versions] == [("v0", artifact.digest)], versions
    finally:
        proc.terminate()
        proc.wait(30)
    return {
        "size_mb": size / MIB,
        "return_ms": returned * 1e3,
        "killed_at_mb": killed_at / MIB,
        "upload_s": uploaded,
        "floor_s": floor,
        "client_rss_mb": max(first_mb, second_mb),
        "server_rss_mb": server_mb,
        "versions": len(versions),
    }


def main() -> None:
    from _common import Report, fmt_s, of_floor, parser, table

    options = parser(__doc__ or "")
    options.add_argument("--files", type=int, help="small files (default 10,000; --quick 1,000)")
    options.add_argument("--big-mb", type=int, help="the big file in MiB (default 2048; --quick 256)")
    args = options.parse_args()
    n = args.files or (1000 if args.quick else 10_000)
    size = (args.big_mb or (256 if args.quick else 2048)) * MIB
    report = Report("artifacts", args)
    report.header("log_artifact, upload, dedup, warm cache, a big file killed half-way")

    def timed(label: str, seconds: float, floor: float | None, budget: str) -> list[Any]:
        if floor is None:
            return [label, fmt_s(seconds), "", "", budget]
        return [label, fmt_s(seconds), fmt_s(floor), of_floor(seconds, floor), budget]

    headers = ["measure", "wakelog", "floor", "× floor", "budget"]
    with tempfile.TemporaryDirectory(prefix="wakelog-bench-artifacts-") as tmp:
        small = bench_small(Path(tmp) / "small", n)
        rows = [
            timed(
                f"log_artifact of {n:,} files returns",
                small["return_ms"] / 1e3,
                small["return_floor_ms"] / 1e3,
                "50 ms",
            ),
            timed(
                "their upload until the version exists", small["upload_s"], small["upload_floor_s"], "15 s"
            ),
            ["contents uploaded for one changed file", small["uploaded_for_one_change"], 1, "", "1"],
            ["blob requests, re-download (warm cache)", small["warm_download_requests"], 0, "", "0"],
            ["blob requests, first download", small["first_download_requests"], n, "", ""],
        ]
        print(table(headers, rows), flush=True)
        big = bench_big(Path(tmp) / "big", size)
    mib = f"{big['size_mb']:.0f} MiB"
    rows = [
        timed(f"log_artifact of a {mib} file returns", big["return_ms"] / 1e3, None, "50 ms"),
        timed(
            f"its upload, killed at {big['killed_at_mb']:.0f} MiB, resumed",
            big["upload_s"],
            big["floor_s"],
            "",
        ),
        ["uploader RSS growth", f"{big['client_rss_mb']:.1f} MB", "", "", "100 MB"],
        ["server RSS growth", f"{big['server_rss_mb']:.1f} MB", "", "", "100 MB"],
    ]
    print(table(headers, rows))
    print()
    report.budget(
        "log_artifact returns",
        small["return_ms"],
        RETURN_BUDGET_MS,
        "ms",
        f"log_artifact of {n:,} files: {small['return_ms']:.1f} ms (budget ≤ 50 ms)",
    )
    report.budget(
        "small files upload",
        small["upload_s"],
        UPLOAD_BUDGET_S,
        "s",
        f"upload of {n:,} small files on SQLite: {small['upload_s']:.2f} s (budget ≤ 15 s)",
    )
    report.budget(
        "contents for one change",
        small["uploaded_for_one_change"],
        1,
        "contents",
        f"one changed file uploads {small['uploaded_for_one_change']} content(s) (budget 1)",
    )
    report.budget(
        "warm re-download requests",
        small["warm_download_requests"],
        0,
        "requests",
        f"warm re-download: {small['warm_download_requests']} blob requests (budget 0)",
    )
    report.budget(
        "big file: one version",
        big["versions"],
        1,
        "versions",
        f"killed -9 at {big['killed_at_mb']:.0f} MiB, resumed: {big['versions']} version",
    )
    for side in ("client", "server"):
        report.budget(f"big file: {side} RSS growth", big[f"{side}_rss_mb"], RSS_BUDGET_MB, "MB",
                      f"{side} RSS growth for {big['size_mb']:.0f} MiB: {big[f'{side}_rss_mb']:.1f} MB "
                      "(budget ≤ 100 MB)")  # fmt: skip
    report.data["results"] = {"small": small, "big": big}
    report.finish()


if __name__ == "__main__":
    main()
