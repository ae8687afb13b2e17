"""Blobs in an S3-compatible bucket (moto in server mode), through a real server's HTTP API.

Uploads are chunked and resumable (``PUT /api/v1/runs/<run>/blobs/<sha256>?offset=&total=``), content is
stored once under its hash, and content that does not match its hash is refused. Runs on both
database backends.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.harness import InProcessServer
from tests.server.conftest import S3Server, query
from wakelog.store.blobs import BlobError, BlobStore

API = "/api/v1/runs/team/blobs/r0/blobs"


def bucket_path(server: InProcessServer) -> str:
    """``bucket/prefix`` of the server's ``--artifact-root s3://bucket/prefix``."""
    root = server.args[server.args.index("--artifact-root") + 1]
    assert root.startswith("s3://")
    return root[len("s3://") :]


def put(client: httpx.Client, sha: str, offset: int, total: int, data: bytes) -> httpx.Response:
    return client.put(f"{API}/{sha}", params={"offset": offset, "total": total}, content=data)


@pytest.fixture
def client(s3_backed_server: InProcessServer) -> httpx.Client:
    with s3_backed_server.client() as c:
        yield c


def test_a_chunked_upload_resumes_and_lands_in_the_bucket(
    s3_backed_server: InProcessServer, s3_server: S3Server, client: httpx.Client
) -> None:
    content = os.urandom(300_000)
    sha = hashlib.sha256(content).hexdigest()
    total = len(content)
    assert client.get(f"{API}/{sha}").json() == {"complete": False, "received": 0}

    assert put(client, sha, 0, total, content[:100_000]).json() == {"received": 100_000, "complete": False}
    # The connection dropped; the client asks where to go on from.
    assert client.get(f"{API}/{sha}").json() == {"complete": False, "received": 100_000}
    # A chunk at the wrong offset is refused and says what arrived.
    response = put(client, sha, 150_000, total, content[150_000:200_000])
    assert response.status_code == 409
    assert response.json()["received"] == 100_000
    assert put(client, sha, 100_000, total, content[100_000:250_000]).json()["received"] == 250_000
    assert put(client, sha, 250_000, total, content[250_000:]).json() == {"received": total, "complete": True}
    assert client.get(f"{API}/{sha}").json() == {"complete": True, "received": total}

    fs = s3_server.fs()
    root = bucket_path(s3_backed_server)
    assert fs.cat_file(f"{root}/{sha[:2]}/{sha}") == content
    assert fs.find(f"{root}/staging") == [], "the parts go once joined"
    rows = query(s3_backed_server, "SELECT size FROM blobs WHERE sha256 = :sha", sha=sha)
    assert [row.size for row in rows] == [total]


def test_the_same_content_is_stored_once(
    s3_backed_server: InProcessServer, s3_server: S3Server, client: httpx.Client
) -> None:
    content = b"the same file from two runs " + uuid.uuid4().bytes
    sha = hashlib.sha256(content).hexdigest()
    assert put(client, sha, 0, len(content), content).json()["complete"] is True
    fs = s3_server.fs()
    target = f"{bucket_path(s3_backed_server)}/{sha[:2]}/{sha}"
    modified = fs.info(target)["LastModified"]
    # A second upload of it is done at once, whatever chunk it starts with.
    assert put(client, sha, 0, len(content), content[:5]).json() == {
        "received": len(content),
        "complete": True,
    }
    assert fs.info(target)["LastModified"] == modified
    assert fs.cat_file(target) == content
    assert query(s3_backed_server, "SELECT count(*) AS n FROM blobs WHERE sha256 = :sha", sha=sha)[0].n == 1


def test_content_that_does_not_match_its_hash_is_refused(
    s3_backed_server: InProcessServer, s3_server: S3Server, client: httpx.Client
) -> None:
    claimed = hashlib.sha256(b"what the client said").hexdigest()
    response = put(client, claimed, 0, 11, b"other bytes")
    assert response.status_code == 409
    assert "sha256" in response.json()["detail"]
    fs = s3_server.fs()
    root = bucket_path(s3_backed_server)
    assert not fs.exists(f"{root}/{claimed[:2]}/{claimed}")
    assert fs.find(f"{root}/staging") == [], "the parts of a mismatch go"
    assert client.get(f"{API}/{claimed}").json() == {"complete": False, "received": 0}
    assert (
        query(s3_backed_server, "SELECT count(*) AS n FROM blobs WHERE sha256 = :sha", sha=claimed)[0].n == 0
    )
    # The upload can start again from nothing, with the right content.
    good = b"what the client said"
    assert put(client, claimed, 0, len(good), good).json()["complete"] is True


@pytest.mark.parametrize("address", ["ABC", "g" * 64, "A" * 64, "0" * 63])
def test_a_bad_address_is_400(client: httpx.Client, address: str) -> None:
    assert client.get(f"{API}/{address}").status_code == 400
    assert put(client, address, 0, 1, b"x").status_code in (400, 409)


def test_a_chunk_past_the_declared_size_is_refused(client: httpx.Client) -> None:
    content = os.urandom(1000)
    sha = hashlib.sha256(content).hexdigest()
    assert put(client, sha, 0, 10, content).status_code == 409
    assert put(client, sha, -1, 10, content).status_code == 400
    assert client.get(f"{API}/{sha}").json()["received"] == 0


def test_run_files_point_at_uploaded_content(s3_backed_server: InProcessServer, client: httpx.Client) -> None:
    content = b"print('hello')\n" + uuid.uuid4().bytes
    sha = hashlib.sha256(content).hexdigest()
    run = f"team/blobs/{uuid.uuid4().hex[:8]}"
    listing = {"files": [{"name": "code/train.py", "sha256": sha, "size": len(content)}]}
    assert client.post(f"/api/v1/runs/{run}/files", json=listing).status_code == 409  # not uploaded yet
    assert put(client, sha, 0, len(content), content).json()["complete"] is True
    assert client.post(f"/api/v1/runs/{run}/files", json=listing).json() == {"attached": 1}
    rows = query(s3_backed_server, "SELECT name, sha256, size FROM run_files WHERE sha256 = :sha", sha=sha)
    assert [tuple(row) for row in rows] == [("code/train.py", sha, len(content))]


def test_two_uploads_of_the_same_content_at_once(
    s3_backed_server: InProcessServer, s3_server: S3Server
) -> None:
    """Two ranks uploading the same file: both finish, no server error, one object."""
    content = os.urandom(200_000)
    sha = hashlib.sha256(content).hexdigest()
    chunk = 50_000
    statuses: list[int] = []

    def upload() -> None:
        with s3_backed_server.client() as c:
            for _ in range(40):  # resume from wherever the other upload left the staging object
                state = c.get(f"{API}/{sha}").json()
                if state["complete"]:
                    return
                offset = state["received"]
                response = put(c, sha, offset, len(content), content[offset : offset + chunk])
                statuses.append(response.status_code)
                if response.status_code == 200 and response.json()["complete"]:
                    return

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status < 500 for status in statuses), statuses
    with s3_backed_server.client() as c:
        assert c.get(f"{API}/{sha}").json() == {"complete": True, "received": len(content)}
    assert s3_server.fs().cat_file(f"{bucket_path(s3_backed_server)}/{sha[:2]}/{sha}") == content


@pytest.mark.parametrize("where", ["local", "s3"])
def test_racing_uploads_in_the_store_itself(
    where: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """BlobStore without a server: racing writers of one content in a folder and in a bucket."""
    if where == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        store = BlobStore(
            f"s3://{s3.bucket}/race-{uuid.uuid4().hex[:8]}",
            key="testing",
            secret="testing",
            client_kwargs={"endpoint_url": s3.endpoint_url, "region_name": "us-east-1"},
        )
    else:
        store = BlobStore(str(tmp_path / "blobs"))
    content = os.urandom(100_000)
    sha = hashlib.sha256(content).hexdigest()
    unexpected: list[BaseException] = []

    def upload() -> None:
        try:
            for _ in range(60):
                if store.exists(sha):
                    return
                offset = store.received(sha)
                with contextlib.suppress(BlobError):
                    if store.write_chunk(sha, offset, content[offset : offset + 10_000], len(content)) == len(
                        content
                    ):
                        return
        except Exception as exc:  # anything but BlobError would be a 500
            unexpected.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not unexpected
    assert store.exists(sha)
    assert b"".join(store.open(sha)) == content


def test_a_publish_stores_the_file_it_hashed_not_one_staged_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one upload hashes its staged file, another upload of the same content by the same
    owner may have published it and started over at the same staged name. What lands under the
    hash is the content that was hashed (it was an empty file once, seen in a CI rehearsal of the
    test above), and the other upload's new staged file is left to it."""
    store = BlobStore(str(tmp_path / "blobs"))
    content = os.urandom(50_000)
    sha = hashlib.sha256(content).hexdigest()
    store.write_chunk(sha, 0, content[:40_000], len(content))

    class Racing:
        """A digest whose result is asked for just as the other upload starts over."""

        def __init__(self) -> None:
            self.digest = hashlib.sha256()

        def update(self, block: bytes) -> None:
            self.digest.update(block)

        def hexdigest(self) -> str:
            Path(store._staging(sha, "")).write_bytes(b"")  # the other upload's new staged file
            return self.digest.hexdigest()

    monkeypatch.setattr("wakelog.store.blobs.hashlib", SimpleNamespace(sha256=Racing))
    assert store.write_chunk(sha, 40_000, content[40_000:], len(content)) == len(content)
    monkeypatch.undo()
    assert b"".join(store.open(sha)) == content
    assert Path(store._staging(sha, "")).exists(), "the other upload's staged file is its own"


def framed(contents: list[bytes], sha: str | None = None) -> bytes:
    """A many-contents body: per content its sha256, its size (8 bytes) and its bytes."""
    return b"".join(
        bytes.fromhex(sha or hashlib.sha256(c).hexdigest()) + len(c).to_bytes(8, "big") + c for c in contents
    )


def test_small_contents_upload_many_to_a_request_and_a_bad_one_stores_none(server: InProcessServer) -> None:
    many_to_a_request(server)


def test_small_contents_upload_many_to_a_request_into_a_bucket(s3_backed_server: InProcessServer) -> None:
    many_to_a_request(s3_backed_server)


def many_to_a_request(server: InProcessServer) -> None:
    good = [uuid.uuid4().bytes * n for n in range(1, 4)] + [b""]
    bad = b"not what its hash says " + uuid.uuid4().bytes
    with server.client() as http:
        refused = http.post(API, content=framed(good) + framed([bad], sha="0" * 64))
        assert refused.status_code == 400 and "0" * 64 in refused.json()["detail"], refused.text
        assert http.post(API, content=framed(good)[:-3] + b"cut").status_code == 400
        for content in good:
            sha = hashlib.sha256(content).hexdigest()
            assert http.get(f"{API}/{sha}").json()["complete"] is False, "nothing of a refused request"
        answer = http.post(API, content=framed(good + good[:1]))
        assert answer.status_code == 200 and answer.json() == {"received": len(good)}, answer.text
        for content in good:
            sha = hashlib.sha256(content).hexdigest()
            assert http.get(f"{API}/{sha}").json() == {"complete": True, "received": len(content)}
            assert server.app.state.blobs.exists(sha)
