"""Artifacts: the budgets of issue 13, measured in one process against the in-process server.

    python bench/artifacts.py [--files N]

* ``log_artifact`` of N (default 10,000) small files: ≤ 50 ms until it returns (hashing and copying
  happen on the run's artifact thread). Floor: one ``queue.put`` per file.
* Their upload, on SQLite (the real uploader and app in one process, ``tests/harness.py``): ≤ 15 s
  from the start of the upload until the version exists. Floor: reading and hashing every file
  once (md5 + sha256), the least any upload must do.
* A second version with one changed file: uploads exactly one blob (counted requests).
* A second download with a warm cache: no blob requests (counted).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import queue
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import wakelog
from tests.harness import InProcessServer, upload
from wakelog.sdk.artifacts._resolve import fetch
from wakelog.transport.artifacts import HttpArtifactServer


class Counting(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.paths = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(f"{request.method} {request.url.path}")
        return self.inner.handle_request(request)

    def count(self, what: str) -> int:
        return sum(1 for p in self.paths if what in p)


def write_files(root: Path, n: int, changed: int | None = None) -> None:
    for i in range(n):
        path = root / f"d{i % 100:02d}" / f"f{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"sample {i}{' changed' if i == changed else ''}\n")


def log_run(work: Path, n: int, changed: int | None) -> tuple[Path, float]:
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


def floors(data: Path, n: int) -> tuple[float, float]:
    q: queue.Queue[int] = queue.Queue()
    start = time.perf_counter()
    for i in range(n):
        q.put(i)
    put = time.perf_counter() - start
    start = time.perf_counter()
    for path in data.rglob("*.txt"):
        content = path.read_bytes()
        hashlib.md5(content).digest()
        hashlib.sha256(content).digest()
    return put, time.perf_counter() - start


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--files", type=int, default=10_000)
    n = options.parse_args().files
    with tempfile.TemporaryDirectory() as tmp, InProcessServer(Path(tmp) / "server") as server:
        work = Path(tmp)
        run_dir, returned = log_run(work, n, None)
        put_floor, hash_floor = floors(work / "data-None", n)
        start = time.perf_counter()
        state = upload(server, run_dir)
        uploaded = time.perf_counter() - start
        assert next(iter(state.artifacts.values()))["version"] == "v0"
        second_dir, _ = log_run(work, n, changed=7)
        counted = Counting(server.transport())
        upload(server, second_dir, transport=counted)
        blobs_second = counted.count("PUT /api/v1/runs/")
        reading = Counting(server.transport())
        artifacts = HttpArtifactServer(server.base_url, server.key, transport=reading)
        cache = work / "cache"
        os.environ["WAKELOG_CACHE_DIR"] = str(cache)
        fetch(artifacts, "bench/bench/small-files:v1", entity=None, project=None).download(work / "one")
        first_files = reading.count("/files/")
        fetch(artifacts, "bench/bench/small-files:v1", entity=None, project=None).download(work / "two")
        warm_files = reading.count("/files/") - first_files
        artifacts.close()
    rows = [
        (
            f"log_artifact of {n:,} files returns",
            f"{returned * 1e3:.1f} ms",
            f"{put_floor * 1e3:.1f} ms",
            "50 ms",
        ),
        ("upload until the version exists (SQLite)", f"{uploaded:.2f} s", f"{hash_floor:.2f} s", "15 s"),
        ("blobs uploaded for one changed file", str(blobs_second), "1", "1"),
        ("blob requests, re-download (warm cache)", str(warm_files), "0", "0"),
        ("blob requests, first download", str(first_files), str(n), ""),
    ]
    print(f"{'measure':<44}{'wakelog':>12}{'floor':>12}{'budget':>12}")
    for label, ours, floor, budget in rows:
        print(f"{label:<44}{ours:>12}{floor:>12}{budget:>12}")


if __name__ == "__main__":
    main()
