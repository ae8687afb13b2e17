"""Media downloads: video, audio and 3-D files keep their type, and byte ranges let players seek."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import msgspec
import pytest

from tests.harness import InProcessServer
from wakelog.server.ranges import byte_range

RUN = "/api/v1/runs/admin/proj/run1"
DATA = bytes(range(256)) * 40  # 10,240 bytes
NAMES = {
    "media/videos/v_0_a.mp4": "video/mp4",
    "media/videos/v_0_b.webm": "video/webm",
    "media/videos/v_0_c.ogg": "video/ogg",  # wandb names Ogg videos .ogg
    "media/audio/a_0_d.wav": "audio/wav",
    "media/audio/a_0_e.ogg": "audio/ogg",
    "media/audio/a_0_f.mp3": "audio/mpeg",
    "media/object3D/o_0_g.glb": "model/gltf-binary",
    "media/object3D/o_0_h.gltf": "model/gltf+json",
    "media/object3D/o_0_i.obj": "model/obj",
    "media/object3D/o_0_j.stl": "model/stl",
    "media/object3D/o_0_k.pts.json": "application/json; charset=utf-8",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    server = InProcessServer(tmp_path_factory.mktemp("ranges") / "data")
    sha = hashlib.sha256(DATA).hexdigest()
    files = [{"name": name, "sha256": sha, "size": len(DATA)} for name in NAMES]
    with server.client() as client:
        assert client.post(f"{RUN}/records", content=msgspec.msgpack.encode([[0, "run", 1.0, {}]])).is_success
        client.put(f"{RUN}/blobs/{sha}", params={"offset": 0, "total": len(DATA)}, content=DATA)
        assert client.post(f"{RUN}/files", json={"files": files}).is_success
    yield server
    server.close()


def test_media_types_are_served_inline_with_their_type(server: InProcessServer) -> None:
    with server.client() as client:
        for name, kind in NAMES.items():
            answer = client.get(f"{RUN}/files/{name}")
            assert answer.headers["content-type"] == kind, name
            assert answer.headers["content-disposition"].startswith("inline"), name
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in answer.headers["content-security-policy"]
            assert answer.headers["accept-ranges"] == "bytes"
            assert answer.content == DATA


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=5-99999", 5, 10239),
    ],
)
def test_a_range_answers_206_with_those_bytes(
    server: InProcessServer, header: str, start: int, end: int
) -> None:
    with server.client() as client:
        answer = client.get(f"{RUN}/files/media/videos/v_0_a.mp4", headers={"Range": header})
    assert answer.status_code == 206
    assert answer.headers["content-range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert answer.headers["content-length"] == str(end - start + 1)
    assert answer.content == DATA[start : end + 1]
    assert (
        answer.headers["content-type"] == "video/mp4"
        and answer.headers["x-content-type-options"] == "nosniff"
    )


@pytest.mark.parametrize(
    "header", ["bytes=20000-", "bytes=0-1,5-6", "items=0-1", "bytes=9-3", "bytes=-0", "nonsense"]
)
def test_a_range_it_cannot_serve_gets_the_whole_file(server: InProcessServer, header: str) -> None:
    with server.client() as client:
        answer = client.get(f"{RUN}/files/media/audio/a_0_d.wav", headers={"Range": header})
    assert answer.status_code == 200 and answer.content == DATA


def test_if_range_with_another_etag_gets_the_whole_file(server: InProcessServer) -> None:
    with server.client() as client:
        url = f"{RUN}/files/media/audio/a_0_d.wav"
        etag = client.get(url).headers["etag"]
        same = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
        other = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (same.status_code, same.content) == (206, DATA[:10])
    assert (other.status_code, other.content) == (200, DATA)


def test_byte_range_parsing() -> None:
    assert byte_range(None, 10) is None
    assert byte_range("bytes=0-0", 10) == (0, 0)
    assert byte_range("bytes=-20", 10) == (0, 9)
    assert byte_range("bytes=0-", 0) is None
