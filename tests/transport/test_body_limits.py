"""Uploads through a body-size limit smaller than their chunks: the server's own (``max_body_bytes``)
or a proxy's in front of it (nginx refuses bodies over 1 MB unless told otherwise). A 413 on content
halves the chunks, down to ``MIN_UPLOAD_CHUNK``; below that the upload stops and says which limit."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import wakelog
from tests.harness import InProcessServer, nginx_in_front, record_offline_run, upload
from wakelog.cli import main
from wakelog.transport import uploader as uploader_module
from wakelog.transport.client import MIN_UPLOAD_CHUNK, UPLOAD_CHUNK, ServerClient

LIMIT = 256 * 1024
RUN = "team/limits/r1"


class Sizes(httpx.BaseTransport):
    """The app's transport, noting each request's method, path, body size and answer."""

    def __init__(self, server: InProcessServer) -> None:
        self.inner = server.transport()
        self.log: list[tuple[str, str, int, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        size = len(request.read())
        response = self.inner.handle_request(request)
        self.log.append((request.method, request.url.path, size, response.status_code))
        return response

    def content(self, sha256: str = "") -> list[tuple[str, int, int]]:
        """(method, body size, status) of the content uploads (chunks and many-contents posts);
        with ``sha256``, that content's chunks."""
        return [
            (m, size, status)
            for m, path, size, status in self.log
            if "/blobs" in path and m != "GET" and path.endswith(sha256)
        ]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path / "server", max_body_bytes=LIMIT) as app:
        yield app


def test_a_file_over_the_body_limit_goes_up_in_smaller_chunks(
    server: InProcessServer, tmp_path: Path
) -> None:
    run_dir = record_offline_run(tmp_path, steps=5, project="limits")
    content = os.urandom(3 * LIMIT + 1234)
    (run_dir / "files" / "model.pdparams").write_bytes(content)
    sizes = Sizes(server)
    state = upload(server, run_dir, entity="team", transport=sizes)
    assert state.complete and not state.refused, state.error
    uploads = sizes.content(hashlib.sha256(content).hexdigest())
    assert uploads[0] == ("PUT", min(UPLOAD_CHUNK, len(content)), 413)
    stored = [(size, status) for _, size, status in uploads if status == 200]
    assert all(size <= LIMIT for size, _ in stored) and sum(size for size, _ in stored) == len(content)
    assert len([s for _, _, s in uploads if s == 413]) <= 4, uploads  # halved, not shrunk byte by byte
    with server.client() as http:
        assert http.get(f"/api/v1/runs/{state.run_path}/files/model.pdparams").content == content
        assert http.get(f"/api/v1/runs/{state.run_path}").json()["last_seq"] == state.acked_seq


def test_small_contents_sent_together_are_split_to_fit(server: InProcessServer) -> None:
    """``upload_whole`` (an artifact folder's small files): over the limit, the request goes in
    halves; a content over the limit by itself goes in chunks. Every content is then stored."""
    contents = [os.urandom(40_000) for _ in range(20)] + [os.urandom(LIMIT + 5000)]
    pairs = [(hashlib.sha256(data).hexdigest(), data) for data in contents]
    sizes = Sizes(server)
    client = ServerClient(server.base_url, server.key, transport=sizes)
    try:
        client.upload_whole(RUN, pairs)
    finally:
        client.close()
    assert sizes.content()[0][2] == 413
    assert all(status in (200, 413) for _, _, status in sizes.content())
    assert max(size for _, size, status in sizes.content() if status == 200) <= LIMIT
    with server.client() as http:
        for sha256, data in pairs:
            assert http.get(f"/api/v1/runs/{RUN}/blobs/{sha256}").json() == {
                "complete": True,
                "received": len(data),
            }


def test_a_limit_below_the_smallest_chunk_stops_the_upload_and_names_it(tmp_path: Path) -> None:
    with InProcessServer(tmp_path / "server", max_body_bytes=MIN_UPLOAD_CHUNK // 2) as server:
        run_dir = record_offline_run(tmp_path, steps=3, project="limits")
        (run_dir / "files" / "big.bin").write_bytes(os.urandom(2 * MIN_UPLOAD_CHUNK))
        with pytest.raises(uploader_module.UploadStopped) as stopped:
            upload(server, run_dir, entity="team")
    message = str(stopped.value)
    assert "413" in message and "client_max_body_size" in message and "wakelog sync" in message


@pytest.fixture
def behind_nginx(tmp_path: Path) -> Iterator[tuple[InProcessServer, str]]:
    """A server (its own limit, 64 MiB) behind nginx as installed, nginx's body limit left at its
    default (1 MB); the server and nginx's URL."""
    with InProcessServer(tmp_path / "server") as server, nginx_in_front(server, tmp_path / "nginx") as url:
        yield server, url


def test_files_pass_a_proxy_at_its_default_body_limit(
    behind_nginx: tuple[InProcessServer, str], tmp_path: Path
) -> None:
    """Through real nginx (its 413 is an HTML page): a 3 MB file uploads, as a batch of small
    contents (an artifact folder's) over the limit does."""
    server, nginx = behind_nginx
    content = os.urandom(3 * 1024 * 1024)
    path = tmp_path / "model.pdparams"
    path.write_bytes(content)
    pairs = [(hashlib.sha256(data).hexdigest(), data) for data in (os.urandom(300_000) for _ in range(8))]
    client = ServerClient(nginx, server.key)
    try:
        sha256, size = client.upload_file(RUN, path)
        client.upload_whole(RUN, pairs)
    finally:
        client.close()
    assert client.upload_chunk < 1024 * 1024
    with server.client() as http:
        for digest, length in [(sha256, size), *((sha, len(data)) for sha, data in pairs)]:
            assert http.get(f"/api/v1/runs/{RUN}/blobs/{digest}").json() == {
                "complete": True,
                "received": length,
            }


def test_a_large_artifacts_manifest_passes_a_proxy_gzipped(
    behind_nginx: tuple[InProcessServer, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """5,000 files' manifest (over 1 MB of JSON) through nginx at its 1 MB default: sent gzipped,
    the version is made with every file (``wakelog sync``, the real uploader)."""
    server, nginx = behind_nginx
    names = [
        f"shard-{i // 500:03d}/validation-sample-{i:06d}-of-the-long-named-dataset.json" for i in range(5000)
    ]
    root = tmp_path / "src"
    for index, name in enumerate(names):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(str(index).encode())
    with wakelog.init(mode="offline", project="limits", entity="team", dir=str(tmp_path)) as run:
        artifact = wakelog.Artifact("shards", "dataset")
        artifact.add_dir(str(root))
        run.log_artifact(artifact)
        run_dir = Path(run.run_dir)
    monkeypatch.setenv("WAKELOG_API_KEY", server.key)
    result = CliRunner().invoke(main, ["sync", "--host", nginx, str(run_dir)])
    assert result.exit_code == 0, result.output
    with server.client() as http:
        entries = http.get("/api/v1/artifacts/team/limits/shards:v0/manifest").json()["entries"]
    assert sorted(entries) == sorted(names)
