"""Big uploads into an S3-compatible bucket (moto): each chunk is staged as its own object and the
parts are joined through the hash on completion, so the server holds a few blocks, not the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests._env import child_env
from tests.harness import InProcessServer, wait_until
from tests.server.conftest import S3Server, free_port
from wakelog.server.expiry import collect
from wakelog.store.blob_parts import MIN_WRITE_BLOCK, SUFFIX, Parts
from wakelog.store.blobs import BlobError, BlobStore
from wakelog.transport.client import ServerClient

RUN = "team/parts/r0"
API = f"/api/v1/runs/{RUN}/blobs"
MiB = 1024 * 1024


def put(client: httpx.Client, sha: str, offset: int, total: int, data: bytes) -> httpx.Response:
    return client.put(f"{API}/{sha}", params={"offset": offset, "total": total}, content=data)


def bucket_store(s3: S3Server, prefix: str | None = None) -> BlobStore:
    return BlobStore(
        f"s3://{s3.bucket}/{prefix or 'parts-' + uuid.uuid4().hex[:8]}",
        key="testing",
        secret="testing",
        client_kwargs={"endpoint_url": s3.endpoint_url, "region_name": "us-east-1"},
    )


def staged_keys(s3: S3Server, store: BlobStore) -> list[str]:
    try:
        return sorted(s3.fs().find(f"{store.root}/staging"))
    except FileNotFoundError:
        return []


def test_a_multi_chunk_upload_is_joined_into_one_verified_object(
    s3_backed_server: InProcessServer, s3_server: S3Server
) -> None:
    content = os.urandom(2 * MIN_WRITE_BLOCK + 3 * MiB)  # joined as a multipart upload of three blocks
    sha, total, chunk = hashlib.sha256(content).hexdigest(), len(content), 4 * MiB
    store = s3_backed_server.app.state.blobs
    with s3_backed_server.client() as http:
        for offset in range(0, total, chunk):
            answer = put(http, sha, offset, total, content[offset : offset + chunk]).json()
            assert answer == {"received": min(offset + chunk, total), "complete": offset + chunk >= total}
            if not answer["complete"]:
                assert len(staged_keys(s3_server, store)) == offset // chunk + 1, "one object per chunk"
        assert http.get(f"{API}/{sha}").json() == {"complete": True, "received": total}
    target = f"{store.root}/{sha[:2]}/{sha}"
    assert hashlib.sha256(s3_server.fs().cat_file(target)).hexdigest() == sha
    assert staged_keys(s3_server, store) == [], "the parts go once joined"


def test_an_interrupted_upload_resumes_from_the_servers_offset(
    s3_backed_server: InProcessServer, s3_server: S3Server, tmp_path: os.PathLike[str]
) -> None:
    content = os.urandom(12 * MiB)
    sha = hashlib.sha256(content).hexdigest()
    with s3_backed_server.client() as http:  # an uploader killed after two chunks
        for offset in (0, 2 * MiB):
            assert put(http, sha, offset, len(content), content[offset : offset + 2 * MiB]).status_code == 200
        assert http.get(f"{API}/{sha}").json() == {"complete": False, "received": 4 * MiB}
    path = tmp_path / "weights.bin"  # type: ignore[operator]
    path.write_bytes(content)
    sent: list[int] = []
    client = ServerClient(
        s3_backed_server.base_url, s3_backed_server.key, transport=s3_backed_server.transport()
    )
    try:
        assert client.upload_file(RUN, path, sent.append) == (sha, len(content))
    finally:
        client.close()
    assert sum(sent) == len(content) - 4 * MiB, "only what the server did not have"
    store = s3_backed_server.app.state.blobs
    assert s3_server.fs().cat_file(f"{store.root}/{sha[:2]}/{sha}") == content
    assert staged_keys(s3_server, store) == []


def test_chunks_out_of_order_or_twice_are_refused_and_leave_the_upload_whole(
    s3_backed_server: InProcessServer, s3_server: S3Server
) -> None:
    content = os.urandom(300_000)
    sha, total = hashlib.sha256(content).hexdigest(), len(content)
    store = s3_backed_server.app.state.blobs
    with s3_backed_server.client() as http:
        assert put(http, sha, 0, total, content[:100_000]).json()["received"] == 100_000
        ahead = put(http, sha, 200_000, total, content[200_000:])
        assert ahead.status_code == 409 and ahead.json()["received"] == 100_000, ahead.text
        again = put(http, sha, 0, total, content[:100_000])  # a retry whose answer was lost
        assert again.status_code == 409 and again.json()["received"] == 100_000, again.text
        assert len(staged_keys(s3_server, store)) == 1, "nothing stored ahead of the gap"
        assert put(http, sha, 100_000, total, content[100_000:200_000]).json()["received"] == 200_000
        assert put(http, sha, 200_000, total, content[200_000:]).json() == {
            "received": total,
            "complete": True,
        }
    assert s3_server.fs().cat_file(f"{store.root}/{sha[:2]}/{sha}") == content


def test_only_the_parts_joined_up_from_zero_count_and_overlaps_join_right(s3_server: S3Server) -> None:
    """Racing uploads of the same content may chunk it differently, and a part may be missing."""
    store = bucket_store(s3_server)
    content = os.urandom(90_000)
    sha, owner = hashlib.sha256(content).hexdigest(), "u1"
    parts = Parts(store.fs, store._staging(sha, owner) + SUFFIX)
    parts.write(0, content[:30_000])
    parts.write(60_000, content[60_000:])  # after a gap: not received yet
    assert store.received(sha, owner) == 30_000
    parts.write(20_000, content[20_000:70_000])  # overlaps both neighbours
    assert store.received(sha, owner) == 90_000
    parts.write(0, content[:30_000])  # the same chunk again: the same object, the same bytes
    assert store.received(sha, owner) == 90_000
    # The last chunk was what completed it: joined (the overlaps read once) and verified.
    chain, end = parts.received()
    assert end == 90_000 and [skip for _, skip in chain] == [0, 10_000, 10_000]
    assert parts.join(chain, sha, store._path(sha))
    assert b"".join(store.open(sha)) == content
    bad = Parts(store.fs, store._staging("0" * 64, owner) + SUFFIX)
    bad.write(0, b"not what the address says")
    with pytest.raises(BlobError, match="sha256"):
        store.write_chunk("0" * 64, 25, b"!", 26, owner)
    assert not store.exists("0" * 64) and store.received("0" * 64, owner) == 0


def test_stale_parts_expire_as_one_upload(s3_backed_server: InProcessServer, s3_server: S3Server) -> None:
    state = s3_backed_server.app.state
    config = dataclasses.replace(state.config, staging_max_age=3600)
    partial = os.urandom(50_000)
    sha = hashlib.sha256(partial).hexdigest()
    with s3_backed_server.client() as http:
        for offset in (0, 10_000, 20_000):
            assert put(http, sha, offset, len(partial), partial[offset : offset + 10_000]).status_code == 200
        now = time.time()
        assert collect(state.db, state.blobs, config, now=now).staged == 0
        assert http.get(f"{API}/{sha}").json()["received"] == 30_000, "young uploads stay"
        result = collect(state.db, state.blobs, config, now=now + 2 * 3600)
        assert (result.staged, result.staged_bytes) == (1, 30_000), "three parts, one upload"
        assert http.get(f"{API}/{sha}").json() == {"complete": False, "received": 0}
    assert staged_keys(s3_server, state.blobs) == []


# -- memory -----------------------------------------------------------------------------------------
@contextmanager
def moto_process() -> Iterator[S3Server]:
    """moto's S3 in a process of its own, so that what it keeps is not counted as the server's."""
    import boto3

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    s3 = S3Server(f"http://127.0.0.1:{port}", "wakelog-memory")
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )

    def created() -> bool:
        try:
            client.create_bucket(Bucket=s3.bucket)
        except Exception:  # not listening yet
            return False
        return True

    try:
        wait_until(created, 60, interval=0.1, what="moto to listen")
        yield s3
    finally:
        proc.kill()
        proc.wait()


def upload_peak(store: BlobStore, size: int, chunk: int) -> int:
    """Python memory the store allocated at most while taking a ``size`` upload in ``chunk``s."""
    content = os.urandom(size)
    sha = hashlib.sha256(content).hexdigest()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for offset in range(0, size, chunk):
            store.write_chunk(sha, offset, content[offset : offset + chunk], size, "u1")
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert store.exists(sha)
    return peak


@pytest.mark.process
def test_the_servers_memory_does_not_grow_with_the_upload() -> None:
    """Before chunks were parts, the last chunk of 64 MiB held the whole upload twice.

    The peak moves by one chunk from upload to upload, whatever its size: a chunk's body is let go
    by the S3 client's event-loop thread, which may not have done so yet when the next one is read.
    """
    chunk = 2 * MiB
    with moto_process() as s3:
        store = bucket_store(s3)
        upload_peak(store, MiB, MiB)  # the first request sets up the S3 client: not per upload
        small, big = upload_peak(store, 16 * MiB, chunk), upload_peak(store, 64 * MiB, chunk)
    assert big < 32 * MiB, f"{big / MiB:.1f} MiB at most for a 64 MiB upload"
    assert big < small + chunk + MiB, f"{small / MiB:.1f} MiB for 16 MiB, {big / MiB:.1f} MiB for 64 MiB"
