"""`wakelog sync` of a run log many read pieces long: read a piece at a time, the next piece read
while a batch is on its way, every record delivered once."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import httpx

from tests.harness import FakeClock, InProcessServer, wait_until
from wakelog._limits import UPLOAD_BATCH_BYTES
from wakelog.runlog import RecordType, RunLogWriter
from wakelog.transport.client import ServerClient
from wakelog.transport.sync import describe
from wakelog.transport.uploader import Uploader

LINE = "x" * 4000


def test_sync_reads_the_next_piece_while_a_batch_is_sent(tmp_path: Path) -> None:
    run_dir = tmp_path / "run-20261204_000000-long1"
    run_dir.mkdir()
    writer = RunLogWriter(run_dir / "run-long1.wakelog")
    writer.append(RecordType.RUN, {"id": "long1", "project": "sync"}, 1.0)
    count = 3 * UPLOAD_BATCH_BYTES // len(LINE)  # three read pieces and more
    for i in range(count):
        writer.append(RecordType.OUTPUT, {"lines": [[1.0, "stdout", f"{i} {LINE}"]]}, 1.0)
    writer.append(RecordType.EXIT, {"exit_code": 0}, 2.0)
    writer.close()
    last = writer.next_seq - 1
    overlapped: list[bool] = []

    with InProcessServer(tmp_path / "server") as server:

        def send(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/records") and uploader._ahead is not None:
                # This batch is in flight: the next piece gets read meanwhile.
                overlapped.append(bool(wait_until(uploader._ahead[1].done, 60, what="the read ahead")))
            return server.transport().handle_request(request)

        clock = FakeClock()
        client = ServerClient(server.base_url, server.key, transport=httpx.MockTransport(send))
        uploader = Uploader(run_dir, client, "sync", "long1", entity="admin", clock=clock, sleep=clock.sleep)
        try:
            state = uploader.run()
        finally:
            client.close()
        assert state.complete and state.acked_seq == last
        assert len(overlapped) >= 3 and all(overlapped)
        with server.client() as http:
            console = http.get("/api/v1/runs/admin/sync/long1/console", params={"tail": 1}).json()
        assert console["total"] == count and console["lines"][0]["text"] == f"{count - 1} {LINE}"


def test_describing_a_long_run_decodes_a_small_piece_at_a_time(tmp_path: Path) -> None:
    """``wakelog sync`` first reads the whole log to learn the run (``describe``); what it holds
    decoded at once stays a small piece, not the log (its records as Python objects are several
    times their size on disk)."""
    run_dir = tmp_path / "run-20261204_000000-wide1"
    run_dir.mkdir()
    writer = RunLogWriter(run_dir / "run-wide1.wakelog")
    writer.append(RecordType.RUN, {"id": "wide1", "project": "sync"}, 1.0)
    for step in range(40_000):  # about 5 MiB on disk
        writer.append(RecordType.HISTORY, {f"k{i}": step + i * 0.5 for i in range(8)} | {"_step": step}, 1.0)
    writer.append(RecordType.EXIT, {"exit_code": 0}, 2.0)
    writer.close()
    size = (run_dir / "run-wide1.wakelog").stat().st_size
    tracemalloc.start()
    try:
        local = describe(run_dir)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (local.run_id, local.records, local.ended) == ("wide1", 40_002, True)
    # A 1 MiB piece decodes to about 12 MiB of objects; the whole log (as before) to 35 MiB.
    assert peak < 20 * 2**20, f"describe held {peak / 2**20:.1f} MiB for a {size / 2**20:.1f} MiB log"
