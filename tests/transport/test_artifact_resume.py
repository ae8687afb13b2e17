"""A big artifact file survives a ``kill -9`` of the uploader: the next uploader resumes where the
server's staged upload stands, and the version is committed exactly once with the logged digest."""

from __future__ import annotations

import contextlib
import hashlib
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import wakelog
from tests._env import child_env
from tests.harness import InProcessServer, wait_until
from wakelog.runlog.syncstate import SyncState

MIB = 1024 * 1024
SIZE = 64 * MIB
#: Bytes per second the first uploader gets: slow enough to be killed half-way, whatever the machine.
SLOW = 16 * MIB


class ThrottledProxy:
    """A loopback TCP forwarder to ``target`` that passes at most ``rate`` bytes/s towards it
    (None: unthrottled) and counts them, so a test can stop an upload half-way on purpose.
    ``forwarding``: the connections whose client's bytes are still being passed on (a killed
    client's last bytes, buffered by the kernel, still go after it is gone)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.rate, self.sent, self.forwarding = target, None, 0, 0
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self._sock.accept()
                upstream = socket.create_connection(self.target)
                with self._lock:
                    self.forwarding += 1
                threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
                threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, towards_server: bool) -> None:
        try:
            with contextlib.suppress(OSError), source, sink:
                while block := source.recv(256 * 1024 if self.rate is None else 64 * 1024):
                    if towards_server:
                        with self._lock:
                            self.sent += len(block)
                        if self.rate is not None:
                            time.sleep(len(block) / self.rate)  # the bandwidth, not a wait for a condition
                    sink.sendall(block)
        finally:
            if towards_server:
                with self._lock:
                    self.forwarding -= 1

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def proxy_and_server(tmp_path: Path) -> Iterator[tuple[ThrottledProxy, InProcessServer]]:
    with InProcessServer(tmp_path / "server") as server:
        proxy = ThrottledProxy(("127.0.0.1", server.port))
        _ = server.url  # listen
        try:
            yield proxy, server
        finally:
            proxy.close()


def generated_file(path: Path, size: int) -> None:
    """``size`` bytes that do not repeat (so no layer can shortcut them), written in blocks."""
    with open(path, "wb") as f:
        for i in range(size // MIB):
            f.write(hashlib.sha256(i.to_bytes(8, "big")).digest() * (MIB // 32))


def start_uploader(run_dir: Path, run_id: str, base_url: str, key: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "wakelog.transport.uploader", str(run_dir), "--base-url", base_url]
    command += ["--entity", "lab", "--project", "resume", "--run-id", run_id]
    command += ["--linger", "60"]  # as ``wakelog sync`` runs it: no training to outlive
    return subprocess.Popen(command, env=child_env(WAKELOG_API_KEY=key), stderr=subprocess.PIPE)


@pytest.mark.process
def test_an_uploader_killed_mid_file_resumes_and_commits_the_version_once(
    proxy_and_server: tuple[ThrottledProxy, InProcessServer], tmp_path: Path
) -> None:
    proxy, server = proxy_and_server
    weights = tmp_path / "weights.bin"
    generated_file(weights, SIZE)
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    with wakelog.init(mode="offline", project="resume", entity="lab", dir=str(tmp_path)) as run:
        artifact = wakelog.Artifact("big", "model")
        artifact.add_file(str(weights), policy="immutable")
        run.log_artifact(artifact)
        run_dir, run_id = Path(run.run_dir), run.id
    digest = artifact.digest
    status = f"/api/v1/runs/lab/resume/{run_id}/blobs/{sha}"

    proxy.rate = SLOW
    first = start_uploader(run_dir, run_id, proxy.url, server.key)
    with server.client() as http:
        try:
            wait_until(lambda: http.get(status).json()["received"] >= 2 * 8 * MIB, 120, what="two chunks")
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate()
        # what the killed uploader had sent, still buffered, reaches the server (and the count of
        # bytes) after it: the second uploader's bytes are counted from when none is left
        wait_until(lambda: proxy.forwarding == 0, 60, what="the killed uploader's last bytes")
        staged = http.get(status).json()
    assert not staged["complete"] and 0 < staged["received"] < SIZE, staged
    assert server.app.state.blobs.staged("1") >= staged["received"]

    proxy.rate, proxy.sent = None, 0
    second = start_uploader(run_dir, run_id, proxy.url, server.key)
    try:
        _, err = second.communicate(timeout=240)
    finally:
        if second.poll() is None:
            second.kill()
            print(second.communicate()[1].decode(), (run_dir / "sync.json").read_text())
    assert second.returncode == 0, err.decode()
    # resumed: the second uploader sent what was missing, not the whole file again
    assert proxy.sent < SIZE - staged["received"] + 4 * MIB, proxy.sent

    with server.client() as http:
        versions = http.get("/api/v1/artifacts/lab/resume/big/versions").json()
        assert [(v["version"], v["digest"]) for v in versions] == [("v0", digest)]
        manifest = http.get("/api/v1/artifacts/lab/resume/big:v0/manifest").json()
        assert manifest["entries"]["weights.bin"]["sha256"] == sha
        content = hashlib.sha256()
        with http.stream("GET", "/api/v1/artifacts/lab/resume/big:v0/files/weights.bin") as answer:
            for block in answer.iter_bytes():
                content.update(block)
        assert content.hexdigest() == sha
    assert server.app.state.blobs.staged("1") == 0, "the finished upload left nothing staged"
    made = SyncState.load(run_dir).artifacts
    assert [m["version"] for m in made.values()] == ["v0"]
