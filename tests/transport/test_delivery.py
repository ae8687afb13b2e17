"""Delivery under bad luck: parallel runs saving the same content, damaged run logs, refused file
names, and every retry loop backing off (exponential, jittered, bounded) in simulated time.

The real app in-process and the real uploader (``tests.harness``); threads where uploads must
really run at once.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import InProcessServer, record_offline_run, upload
from wakelog.runlog import find_runlog, read_runlog
from wakelog.runlog._format import FRAME_SIZE
from wakelog.transport import client as client_module
from wakelog.transport import uploader as uploader_module
from wakelog.transport.client import ServerClient


@pytest.fixture
def server(tmp_path: Path) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path / "server") as app:
        yield app


def _together(count: int, work: Callable[[int], object]) -> list[BaseException]:
    """Run ``work(i)`` in ``count`` threads released at once; returns what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


@pytest.mark.parametrize("size", [30_000, 300_000])
def test_parallel_uploads_of_the_same_content_by_one_user_all_succeed(
    server: InProcessServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """H2: runs of one user saving the same requirements.txt at once; none is refused."""
    monkeypatch.setattr(client_module, "UPLOAD_CHUNK", 64 * 1024)  # several chunks for the larger one
    for attempt in range(4):
        content = os.urandom(size)
        path = tmp_path / f"requirements-{attempt}.txt"
        path.write_bytes(content)
        results: list[tuple[str, int]] = []

        def work(_index: int, path: Path = path, results: list[tuple[str, int]] = results) -> None:
            client = ServerClient(server.base_url, server.key, transport=server.transport())
            try:
                results.append(client.upload_file(path))
            finally:
                client.close()

        assert _together(6, work) == []
        sha = hashlib.sha256(content).hexdigest()
        assert results == [(sha, size)] * 6
        with server.client() as http:
            assert http.get(f"/api/v1/blobs/{sha}").json() == {"complete": True, "received": size}


# -- M3: a damaged record is declared lost, the rest arrives; every retry loop backs off ------------


class Requests(httpx.BaseTransport):
    """The app's transport, counting requests; a test fails instead of hanging past ``limit``."""

    def __init__(self, server: InProcessServer, limit: int = 500, corrupt_puts: bool = False) -> None:
        self.inner, self.limit, self.corrupt_puts = server.transport(), limit, corrupt_puts
        self.log: list[tuple[str, str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if len(self.log) >= self.limit:
            raise AssertionError(f"more than {self.limit} requests: {self.log[-5:]}")
        if self.corrupt_puts and request.method == "PUT":  # a network that damages uploads
            body = bytes(b ^ 0xFF for b in request.read())
            request = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = self.inner.handle_request(request)
        self.log.append((request.method, request.url.path, response.status_code))
        return response


def _damage(run_dir: Path, seq: int) -> None:
    """Flip a byte inside record ``seq``'s payload: its checksum no longer matches."""
    log = find_runlog(run_dir)
    record = next(r for r in read_runlog(log).records if r.seq == seq)
    with open(log, "r+b") as f:
        f.seek(record.offset + FRAME_SIZE + 2)
        byte = f.read(1)
        f.seek(record.offset + FRAME_SIZE + 2)
        f.write(bytes([byte[0] ^ 0xFF]))


def _run(server: InProcessServer, path: str) -> dict[str, Any]:
    with server.client() as http:
        detail: dict[str, Any] = http.get(f"/api/v1/runs/{path}").json()
    return detail


@pytest.mark.parametrize("at_boundary", [True, False])
def test_a_damaged_record_is_declared_lost_and_the_records_after_it_arrive(
    server: InProcessServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at_boundary: bool
) -> None:
    """M3: one damaged record (the first of a batch, or inside one) is declared lost; the server
    records the gap in the run's metadata and every intact record after it arrives."""
    run_dir = record_offline_run(tmp_path, steps=30, project="gaps")
    lost = [r for r in read_runlog(find_runlog(run_dir)).records if r.type == "history"][10]
    _damage(run_dir, lost.seq)
    if at_boundary:  # the batch before it ends just before it
        monkeypatch.setattr(uploader_module, "BATCH_RECORDS", lost.seq)
    requests = Requests(server)
    state = upload(server, run_dir, entity="team", transport=requests)

    assert state.complete and state.acked_seq == read_runlog(find_runlog(run_dir)).records[-1].seq
    gaps = _run(server, state.run_path)["metadata"]["lost_records"]
    assert [(g["first"], g["last"]) for g in gaps] == [(lost.seq, lost.seq)]
    assert "checksum mismatch" in gaps[0]["reason"]
    with server.client() as http:
        page = http.get(f"/api/v1/runs/{state.run_path}/history/rows", params={"keys": "loss"}).json()
    assert [row["_step"] for row in page["rows"]] == [s for s in range(30) if s != lost.data["_step"]]
    assert all(status < 400 for _, _, status in requests.log), "no batch was refused"
