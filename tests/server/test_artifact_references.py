"""References to ``http(s)://`` and ``s3://`` content (a loopback HTTP server; moto's S3): logged
with the source's checksum (its ETag, as wandb) or, with ``checksum=False``, the URI; stored by the
server, which never fetches them; downloaded from the source and checked against the digest, so a
changed or missing source is a clear error, never a wrong file."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import wakelog
from tests.harness import InProcessServer, upload
from tests.server.conftest import S3Server
from wakelog.sdk.artifacts import ArtifactDigestError, ArtifactError


class Source(http.server.ThreadingHTTPServer):
    """Files by path, each with an md5 ETag; notes every request it gets."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []

    def uri(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Source

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("ETag", f'"{hashlib.md5(body).hexdigest()}"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def source() -> Iterator[Source]:
    server = Source()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path_factory.mktemp("refs") / "data") as running:
        yield running


@pytest.fixture(autouse=True)
def settings(app: InProcessServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WAKELOG_BASE_URL", app.url)
    monkeypatch.setenv("WAKELOG_API_KEY", app.key)
    monkeypatch.setenv("WAKELOG_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def api(settings: None) -> Iterator[wakelog.Api]:
    with wakelog.Api() as opened:
        yield opened


def log_and_fetch(
    app: InProcessServer, api: wakelog.Api, root: Path, artifact: wakelog.Artifact
) -> wakelog.Artifact:
    """Log ``artifact`` in an offline run, upload the run, and read the version back."""
    with wakelog.init(mode="offline", project="refs", entity="admin", dir=str(root)) as run:
        run.log_artifact(artifact)
        run_dir = Path(run.run_dir)
    assert upload(app, run_dir).complete
    return api.artifact(f"admin/refs/{artifact.name}:latest")


def test_http_references_checksum_the_etag_and_downloads_check_it(
    app: InProcessServer, api: wakelog.Api, source: Source, tmp_path: Path
) -> None:
    source.files["/data/train.csv"] = b"x,y\n1,2\n"
    artifact = wakelog.Artifact("web-data", "dataset")
    (checked,) = artifact.add_reference(source.uri("/data/train.csv"))
    (unchecked,) = artifact.add_reference(source.uri("/data/other.csv"), checksum=False)
    assert checked.digest == hashlib.md5(b"x,y\n1,2\n").hexdigest() and checked.size == 8
    assert checked.extra["etag"] == f'"{checked.digest}"' and checked.sha256 is None
    assert unchecked.digest == unchecked.ref == source.uri("/data/other.csv")
    assert source.requests == ["/data/train.csv"]  # checksum=False asks nothing

    fetched = log_and_fetch(app, api, tmp_path / "run", artifact)
    assert source.requests == ["/data/train.csv"], "the server never fetches a reference"
    entry = fetched.get_entry("train.csv")
    assert (entry.ref, entry.digest, entry.sha256) == (checked.ref, checked.digest, None)
    folder = Path(fetched.download(tmp_path / "one", allow_missing_references=True))
    assert (folder / "train.csv").read_bytes() == b"x,y\n1,2\n"
    assert not (folder / "other.csv").exists()  # a missing unchecked source: skipped as asked

    source.files["/data/train.csv"] = b"x,y\n9,9\n"
    with pytest.raises(ArtifactDigestError, match="changed since it was logged"):
        fetched.download(tmp_path / "two", allow_missing_references=True)
    assert not (tmp_path / "two" / "train.csv").exists()
    del source.files["/data/train.csv"]
    with pytest.raises(ArtifactError, match=r"train\.csv: cannot download it: HTTP 404"):
        fetched.get_entry("train.csv").download(str(tmp_path / "three"))


def test_a_missing_http_source_at_log_time_is_named(source: Source) -> None:
    with pytest.raises(ArtifactError, match=r"/gone\.bin: cannot reach it to checksum it: HTTP 404"):
        wakelog.Artifact("refs", "model").add_reference(source.uri("/gone.bin"))


def test_s3_references_carry_the_objects_etags(
    app: InProcessServer,
    api: wakelog.Api,
    s3_server: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {**s3_server.env, "AWS_S3_ENDPOINT_URL": s3_server.endpoint_url}.items():
        monkeypatch.setenv(name, value)
    fs = s3_server.fs()
    bucket = s3_server.bucket
    contents = {"ds/a.txt": b"alpha", "ds/sub/b.txt": b"beta"}
    for key, body in contents.items():
        fs.pipe(f"{bucket}/refs-test/{key}", body)
    artifact = wakelog.Artifact("s3-data", "dataset")
    entries = artifact.add_reference(f"s3://{bucket}/refs-test/ds", name="ds")
    (single,) = artifact.add_reference(f"s3://{bucket}/refs-test/ds/a.txt", name="copy/a.txt")
    (unchecked,) = artifact.add_reference(f"s3://{bucket}/refs-test/nowhere.bin", checksum=False)
    assert [e.path for e in entries] == ["ds/a.txt", "ds/sub/b.txt"]
    assert [e.digest for e in entries] == [hashlib.md5(contents[k]).hexdigest() for k in sorted(contents)]
    assert single.digest == entries[0].digest and single.ref == f"s3://{bucket}/refs-test/ds/a.txt"
    assert unchecked.digest == unchecked.ref
    with pytest.raises(ArtifactError, match="no such object or prefix"):
        artifact.add_reference(f"s3://{bucket}/refs-test/absent")

    fetched = log_and_fetch(app, api, tmp_path / "run", artifact)
    folder = Path(fetched.download(tmp_path / "one", allow_missing_references=True))
    assert {p: (folder / p).read_bytes() for p in contents} == contents
    assert (folder / "copy" / "a.txt").read_bytes() == b"alpha"

    fs.pipe(f"{bucket}/refs-test/ds/a.txt", b"changed")
    with pytest.raises(ArtifactDigestError, match="changed since it was logged"):
        fetched.download(tmp_path / "two", allow_missing_references=True)
    fs.rm(f"{bucket}/refs-test/ds/a.txt")
    with pytest.raises(ArtifactError, match=r"ds/a\.txt is missing"):
        fetched.get_entry("ds/a.txt").download(str(tmp_path / "three"))
