"""Delivery under bad luck: parallel runs saving the same content, damaged run logs, refused file
names, and every retry loop backing off (exponential, jittered, bounded) in simulated time.

The real app in-process and the real uploader (``tests.harness``); threads where uploads must
really run at once.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from tests.harness import FakeClock, InProcessServer, record_offline_run, upload
from wakelog.runlog import find_runlog, read_runlog
from wakelog.runlog._format import FRAME_SIZE, HEADER_SIZE
from wakelog.runlog.syncstate import SyncState
from wakelog.sdk._uploader import UploaderHandle
from wakelog.server.expiry import collect
from wakelog.transport import client as client_module
from wakelog.transport import uploader as uploader_module
from wakelog.transport.client import RetryableError, ServerClient
from wakelog.transport.sync import describe, sync_run

#: The run uploads go under (uploads are addressed by run: they need its member role).
RUN = "team/uploads/r1"


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
                results.append(client.upload_file(RUN, path))
            finally:
                client.close()

        assert _together(6, work) == []
        sha = hashlib.sha256(content).hexdigest()
        assert results == [(sha, size)] * 6
        with server.client() as http:
            assert http.get(f"/api/v1/runs/{RUN}/blobs/{sha}").json() == {"complete": True, "received": size}


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
        monkeypatch.setattr(uploader_module, "MAX_BATCH_RECORDS", lost.seq)
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


def test_sync_uploads_past_a_damaged_record_too(server: InProcessServer, tmp_path: Path) -> None:
    """M3, `wakelog sync`: the same uploader, so the same declared gap."""
    run_dir = record_offline_run(tmp_path, steps=12, project="gaps")
    lost = next(r for r in read_runlog(find_runlog(run_dir)).records if r.type == "history")
    _damage(run_dir, lost.seq)
    client = ServerClient(server.base_url, server.key, transport=Requests(server))
    try:
        state = sync_run(describe(run_dir), client, entity="team")
    finally:
        client.close()
    assert state.complete and describe(run_dir).synced
    assert _run(server, state.run_path)["metadata"]["lost_records"][0]["first"] == lost.seq


def _cut(run_dir: Path, before_seq: int) -> None:
    """Remove the records before ``before_seq`` cleanly (no damage): like the later part of a run
    whose earlier part the server never got."""
    log = find_runlog(run_dir)
    first = next(r for r in read_runlog(log).records if r.seq == before_seq)
    data = log.read_bytes()
    log.write_bytes(data[:HEADER_SIZE] + data[first.offset :])


def _backs_off(waits: list[float], cap: float) -> None:
    """Waits that grow (doubling steps, each jittered into its step's upper half) up to ``cap``."""
    assert len(waits) >= 3
    assert all(w <= cap + 1e-9 for w in waits)
    assert waits[-1] > waits[0], "the waits grow"
    assert len(set(waits)) == len(waits), "jittered: no two alike"


def test_a_gap_the_log_cannot_fill_is_retried_with_backoff_then_given_up(
    server: InProcessServer, tmp_path: Path
) -> None:
    """M3: records missing without damage (nothing to declare): the uploader no longer resends the
    same batch in a tight loop; it backs off and, once it may stop (sync: at once), stops."""
    run_dir = record_offline_run(tmp_path, steps=10, project="gaps")
    _cut(run_dir, 3)
    requests, clock = Requests(server), FakeClock()
    state = upload(server, run_dir, entity="team", transport=requests, clock=clock, linger=120)
    assert not state.complete and "seq" in (state.error or "")
    gaps = [entry for entry in requests.log if entry[2] == 409]
    assert uploader_module.GAP_RETRIES <= len(gaps) < 50, "bounded"
    assert sum(clock.slept) > 120, "it waited out linger, backing off"


def test_file_upload_retries_back_off_and_are_bounded(server: InProcessServer, tmp_path: Path) -> None:
    """A chunk refused every time (here: a network that damages uploads) is retried with growing,
    jittered waits a bounded number of times, then left for later (retryable, not a refusal)."""
    path = tmp_path / "model.bin"
    path.write_bytes(os.urandom(5000))
    clock = FakeClock()
    client = ServerClient(
        server.base_url, server.key, transport=Requests(server, corrupt_puts=True), sleep=clock.sleep
    )
    try:
        with pytest.raises(RetryableError, match="kept colliding"):
            client.upload_file(RUN, path)
    finally:
        client.close()
    assert len(clock.slept) == client_module.UPLOAD_RETRIES
    _backs_off(clock.slept, 2.0)


def test_an_upload_staged_whole_but_never_published_is_published_on_resume(
    server: InProcessServer, tmp_path: Path
) -> None:
    """The server stopped (kill -9) after staging the last chunk, before publishing the content:
    every byte is there, the content is not. The resumed upload publishes it with an empty last
    chunk, and the file attaches (it had been refused as missing, which stopped the run's upload)."""
    content = os.urandom(5000)
    path = tmp_path / "requirements.txt"
    path.write_bytes(content)
    sha256 = hashlib.sha256(content).hexdigest()
    blob = f"/api/v1/runs/{RUN}/blobs/{sha256}"
    with server.client() as http:  # every byte staged, under a total the content never reaches
        staged = http.put(blob, params={"offset": 0, "total": len(content) + 1}, content=content)
        assert staged.json() == {"received": len(content), "complete": False}
        assert http.get(blob).json() == {"complete": False, "received": len(content)}
    client = ServerClient(server.base_url, server.key, transport=server.transport())
    try:
        assert client.upload_file(RUN, path) == (sha256, len(content))
        assert client.attach_files(RUN, [{"name": path.name, "sha256": sha256, "size": len(content)}]) == []
    finally:
        client.close()
    with server.client() as http:
        assert http.get(blob).json()["complete"] is True
        assert http.get(f"/api/v1/runs/{RUN}/files/{path.name}").content == content


class ExpiryBeforeAttach(Requests):
    """The server's expiry runs (as if the content were a year old) just before the first attach:
    the content just uploaded, not yet pointed at by any run file, is deleted."""

    def __init__(self, server: InProcessServer) -> None:
        super().__init__(server)
        self.server, self.expired = server, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.expired and request.method == "POST" and request.url.path.endswith("/files"):
            self.expired = True
            state = self.server.app.state
            collect(state.db, state.blobs, state.config, now=time.time() + 365 * 86400)
        return super().handle_request(request)


def test_content_expired_before_its_attach_is_uploaded_again(server: InProcessServer, tmp_path: Path) -> None:
    """The attach answers 409 blob_missing (the server's expiry took the content between upload and
    attach, as server/expiry.py allows): the uploader uploads it again, the run is not refused."""
    run_dir = record_offline_run(tmp_path, steps=3, project="expiry")
    (run_dir / "files" / "notes.txt").write_text("kept")
    requests = ExpiryBeforeAttach(server)
    state = upload(server, run_dir, entity="team", transport=requests)
    assert state.complete and not state.refused
    attaches = [
        status for method, path, status in requests.log if method == "POST" and path.endswith("/files")
    ]
    assert attaches[0] == 409 and attaches[-1] == 200, requests.log
    with server.client() as http:
        assert http.get(f"/api/v1/runs/{state.run_path}/files/notes.txt").text == "kept"


def test_the_uploader_backs_off_with_jitter(server: InProcessServer, tmp_path: Path) -> None:
    run_dir = record_offline_run(tmp_path, steps=3, project="gaps")
    uploader = uploader_module.Uploader(
        run_dir, ServerClient(server.base_url, server.key, transport=server.transport()), "p", "r"
    )
    waits = [uploader._backoff.next() for _ in range(10)]  # the schedule itself
    _backs_off(waits, uploader_module.MAX_BACKOFF)
    assert waits[-1] >= uploader_module.MAX_BACKOFF / 2
    uploader.client.close()


def test_finish_waits_for_the_uploader_with_backoff(tmp_path: Path) -> None:
    """The SDK's wait in finish(): polls often at first, then less, and ends at its deadline."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        clock = FakeClock()
        handle = UploaderHandle(proc, tmp_path, clock=clock, sleep=clock.sleep)
        handle.wait(last_seq=5, timeout=20.0, quiet=True)
    finally:
        proc.kill()
        proc.wait()
    assert sum(clock.slept) == pytest.approx(20.0)
    _backs_off(clock.slept[:-1], 1.0)


# -- M6: a file name the server refuses skips that file only ---------------------------------------


def test_a_bad_file_name_in_a_batch_refuses_that_file_only(server: InProcessServer) -> None:
    records = [
        [0, "run", 1.0, {"id": "r1", "project": "names"}],
        [1, "files", 1.0, {"files": [{"name": "ok.txt"}, {"name": "a\\\\b.txt"}, {"name": "../up"}]}],
        [2, "history", 1.0, {"_step": 0, "loss": 1.0}],
    ]
    body = gzip.compress(msgspec.msgpack.encode(records))
    headers = {"Content-Type": "application/msgpack", "Content-Encoding": "gzip"}
    with server.client() as http:
        answer = http.post("/api/v1/runs/team/names/r1/records", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["ack"] == 2
        assert [f["name"] for f in answer.json()["refused_files"]] == ["a\\\\b.txt", "../up"]
        files = http.get("/api/v1/runs/team/names/r1/files").json()["files"]
    assert [f["name"] for f in files] == ["ok.txt"]


def test_attach_refuses_a_bad_name_alone(server: InProcessServer) -> None:
    content = b"x = 1\\n"
    sha = hashlib.sha256(content).hexdigest()
    with server.client() as http:
        http.put(
            f"/api/v1/runs/team/names/r2/blobs/{sha}",
            params={"offset": 0, "total": len(content)},
            content=content,
        )
        listing = [{"name": n, "sha256": sha, "size": len(content)} for n in ("code/a.py", "code\\\\b.py")]
        answer = http.post("/api/v1/runs/team/names/r2/files", json={"files": listing})
        assert answer.status_code == 200, answer.text
        assert answer.json()["attached"] == 1
        assert [r["name"] for r in answer.json()["refused"]] == ["code\\\\b.py"]


def test_the_uploader_skips_a_file_it_cannot_name_with_one_warning(
    server: InProcessServer, tmp_path: Path
) -> None:
    run_dir = record_offline_run(tmp_path, steps=3, project="names")
    (run_dir / "files" / "bad\\\\name.txt").write_text("from another system")
    (run_dir / "files" / "good.txt").write_text("fine")
    with pytest.warns(UserWarning, match="not uploading file") as caught:
        state = upload(server, run_dir, entity="team")
        upload(server, run_dir, entity="team")  # again: no second warning
    assert len([w for w in caught if "bad" in str(w.message)]) == 1
    assert state.complete
    with server.client() as http:
        names = [f["name"] for f in http.get(f"/api/v1/runs/{state.run_path}/files").json()["files"]]
    assert "good.txt" in names and not any("bad" in n for n in names)


def test_a_refused_run_stays_for_sync_and_says_how(server: InProcessServer, tmp_path: Path) -> None:
    run_dir = record_offline_run(tmp_path, steps=3, project="names")
    with pytest.raises(uploader_module.UploadStopped, match="wakelog sync"):
        upload(server, run_dir, entity="bad entity!")
    assert run_dir.is_dir() and "wakelog sync" in (SyncState.load(run_dir).error or "")


# -- L6: a media path with `..` never becomes a link to another endpoint ---------------------------


def _post(server: InProcessServer, path: str, records: list[list[Any]]) -> httpx.Response:
    body = gzip.compress(msgspec.msgpack.encode(records))
    headers = {"Content-Type": "application/msgpack", "Content-Encoding": "gzip"}
    with server.client() as http:
        return http.post(f"/api/v1/runs/{path}/records", content=body, headers=headers)


def test_a_media_path_out_of_the_run_is_refused_at_ingest_and_gets_no_link(server: InProcessServer) -> None:
    escape = "media/images/../../../../../auth/keys"
    chart = {"_type": "custom-chart", "chart": "line", "table": {"_type": "table-file", "path": "../../x"}}
    good = {"_type": "image-file", "path": "media/images/a_0_ab.png"}
    row = {"_step": 0, "bad": {"_type": "image-file", "path": escape}, "chart": chart, "good": good}
    answer = _post(server, "team/media/r3", [[0, "run", 1.0, {"id": "r3"}], [1, "history", 1.0, row]])
    assert answer.status_code == 200 and answer.json()["ack"] == 1, "the row is kept, not the batch refused"
    with server.client() as http:
        items = {i["key"]: i for i in http.get("/api/v1/runs/team/media/r3/media").json()["items"]}
    assert "url" not in items["bad"] and "path" not in items["bad"]["value"]
    assert "'..'" in items["bad"]["value"]["path_refused"]
    assert "path" not in items["chart"]["value"]["table"]
    assert items["good"]["url"] == "/api/v1/runs/team/media/r3/files/media/images/a_0_ab.png"


def test_the_sdk_writes_media_only_under_files(tmp_path: Path) -> None:
    from wakelog.sdk.media._files import write_media_file

    stub = write_media_file(tmp_path, "images", "../../etc/passwd", 0, data=b"x", ext="png")
    assert ".." not in stub["path"].split("/")
    with pytest.raises(ValueError, match="'..'"):
        write_media_file(tmp_path, "../up", "k", 0, data=b"x", ext="png")
    assert not (tmp_path / "up").exists() and not (tmp_path / "files" / "up").exists()


@pytest.mark.process
def test_two_uploader_processes_saving_the_same_file_both_finish(
    server: InProcessServer, tmp_path: Path
) -> None:
    """H2 with real processes: two runs' uploaders, one user, the same multi-chunk file at once."""
    content = os.urandom(client_module.UPLOAD_CHUNK * 2 + 12345)
    runs = []
    for index in range(2):
        run_dir = record_offline_run(tmp_path / f"t{index}", steps=3, project="twins")
        (run_dir / "files" / "requirements.txt").write_bytes(content)
        runs.append(run_dir)
    env = {**os.environ, "WAKELOG_API_KEY": server.key}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wakelog.transport.uploader",
                str(run_dir),
                "--base-url",
                server.url,
                "--entity",
                "team",
                "--project",
                "twins",
                "--run-id",
                describe(run_dir).run_id,
                "--linger",
                "0",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for run_dir in runs
    ]
    outputs = [proc.communicate(timeout=240)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    sha = hashlib.sha256(content).hexdigest()
    with server.client() as http:
        for run_dir in runs:
            files = http.get(f"/api/v1/runs/team/twins/{describe(run_dir).run_id}/files").json()["files"]
            assert {f["name"]: f["sha256"] for f in files}["requirements.txt"] == sha


class Busy(Requests):
    """The app's transport, but the first batch of records is answered 429 with ``Retry-After``."""

    def __init__(self, server: InProcessServer, retry_after: int) -> None:
        super().__init__(server)
        self.retry_after, self.refused = retry_after, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/records") and not self.refused:
            self.refused = True
            body = {"detail": "writing too fast", "code": "rate_limited"}
            return httpx.Response(429, json=body, headers={"Retry-After": str(self.retry_after)})
        return super().handle_request(request)


def test_the_uploader_waits_as_long_as_a_rate_limited_server_asks(
    server: InProcessServer, tmp_path: Path
) -> None:
    """429 with ``Retry-After: 7``: the uploader's next try waits those 7 s, not only its own first
    backoff step (at most 0.5 s), and the run still arrives whole."""
    run_dir = record_offline_run(tmp_path, steps=5, project="limited")
    clock = FakeClock()
    transport = Busy(server, retry_after=7)
    state = upload(server, run_dir, entity="admin", clock=clock, transport=transport, linger=60)
    assert state.complete and transport.refused
    assert sum(clock.slept) >= 7 - 1e-6, clock.slept
    assert _run(server, f"admin/limited/{run_dir.name.rsplit('-', 1)[1]}")["summary"][
        "loss"
    ] == pytest.approx(0.2)
