"""`wakelog sync` of a long offline run: its peak memory and time, against a real server.

    python bench/sync_memory.py [--quick] [--steps N] [--json PATH]

A finished run of ``--steps`` steps × 5 keys (default 2M; ``--quick`` 300k) is written as the SDK's
writer writes it, then ``wakelog sync`` uploads it in a child process to a `wakelog server` process
on SQLite. Printed: the child's peak RSS (``ru_maxrss``) and its wall time. Run it with the code before
and after a change (``PYTHONPATH``) to compare.

Budget (DESIGN.md §4): ≤ 100 MB for a 10M-step run; reading and sending pipelined.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from server_ingest import KEYS, start_server
from wakelog.runlog import RecordType, RunLogWriter


def write_run(root: Path, steps: int) -> Path:
    run_dir = root / "wakelog" / "run-20261204_000000-sync1"
    run_dir.mkdir(parents=True)
    writer = RunLogWriter(run_dir / "run-sync1.wakelog")
    writer.append(RecordType.RUN, {"id": "sync1", "project": "sync", "entity": "admin"}, 1.0)
    for step in range(steps):
        row = {key: step * 0.5 + i for i, key in enumerate(KEYS)}
        writer.append(RecordType.HISTORY, {**row, "_step": step, "_runtime": step * 0.01}, 1.0)
        if step % 10_000 == 0:
            writer.flush()
    writer.append(RecordType.EXIT, {"exit_code": 0}, 2.0)
    writer.close()
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300k steps")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    steps = args.steps or (300_000 if args.quick else 2_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = write_run(Path(tmp), steps)
        size = (run_dir / "run-sync1.wakelog").stat().st_size
        proc, url, key = start_server(Path(tmp) / "server")
        try:
            env = {
                **os.environ,
                "WAKELOG_BASE_URL": url,
                "WAKELOG_API_KEY": key,
                "WAKELOG_CONFIG_DIR": str(Path(tmp) / "config"),  # never the user's own
                "WAKELOG_SILENT": "true",
            }
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "wakelog", "sync", str(run_dir)],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            seconds = time.perf_counter() - start
            # The peak of the children waited for so far: the sync child alone (the server is not yet).
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        finally:
            proc.terminate()
            proc.wait()
    print(
        f"wakelog sync of {steps:,} steps × {len(KEYS)} keys ({size / 2**20:.0f} MiB of run log): "
        f"peak RSS {peak_mb:.0f} MB, {seconds:.1f} s — budget ≤ 100 MB at 10M steps"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"steps": steps, "log_bytes": size, "peak_mb": peak_mb, "seconds": seconds})
        )


if __name__ == "__main__":
    main()
