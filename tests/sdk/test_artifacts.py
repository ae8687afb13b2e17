"""``wakelog.Artifact`` without a server: entries, digests (wandb's), bad names, references, logging
into the run log, the cache's eviction and verified downloads."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
from datetime import timedelta
from pathlib import Path

import pytest

import wakelog
from tests.conftest import records
from wakelog.sdk.artifacts import (
    ArtifactDigestError,
    ArtifactError,
    ArtifactFinalizedError,
    ArtifactManifestEntry,
    ArtifactNotLoggedError,
)
from wakelog.sdk.artifacts._cache import ArtifactCache
from wakelog.sdk.artifacts._download import Downloader


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def wandb_manifest_digest(entries: dict[str, str]) -> str:
    md5 = hashlib.md5(b"wandb-artifact-manifest-v1\n")
    for path in sorted(entries):
        md5.update(f"{path}:{entries[path]}\n".encode())
    return md5.hexdigest()


def test_entries_carry_wandbs_digests(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_bytes(b"alpha")
    (tmp_path / "data" / "sub").mkdir()
    (tmp_path / "data" / "sub" / "b.bin").write_bytes(b"\x00beta")
    artifact = wakelog.Artifact("digits", "dataset", metadata={"rows": 2})
    artifact.add_dir(tmp_path / "data", name="raw")
    with artifact.new_file("notes/readme.md") as f:
        f.write("hello")
    entries = artifact.manifest.entries
    assert sorted(entries) == ["notes/readme.md", "raw/a.txt", "raw/sub/b.bin"]
    assert entries["raw/a.txt"].digest == b64md5(b"alpha")
    assert entries["raw/a.txt"].sha256 == hashlib.sha256(b"alpha").hexdigest()
    assert artifact.get_entry("raw/sub/b.bin").size == 5
    expected = {
        "notes/readme.md": b64md5(b"hello"),
        "raw/a.txt": b64md5(b"alpha"),
        "raw/sub/b.bin": b64md5(b"\x00beta"),
    }
    assert artifact.digest == wandb_manifest_digest(expected)
    artifact.remove("raw/sub")
    assert sorted(artifact.manifest.entries) == ["notes/readme.md", "raw/a.txt"]
    with pytest.raises(KeyError, match="raw/sub/b.bin"):
        artifact.get_entry("raw/sub/b.bin")


@pytest.mark.parametrize("bad", ["../escape.txt", "/abs.txt", "a\\b.txt", "nul\x00.txt", "a/../b"])
def test_bad_entry_names_are_refused_naming_them(tmp_path: Path, bad: str) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    artifact = wakelog.Artifact("ds", "dataset")
    with pytest.raises(ArtifactError, match="entry") as caught:
        artifact.add_file(source, name=bad)
    assert repr(bad)[1:-1] in str(caught.value)
    with pytest.raises(ArtifactError, match="entry"):
        artifact.add_reference(source.as_uri(), name=bad)
    assert not artifact.manifest.entries


def test_names_follow_wandbs_rule_and_duplicates_need_overwrite(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="artifact name"):
        wakelog.Artifact("bad/name", "dataset")
    source = tmp_path / "f.txt"
    source.write_text("one")
    artifact = wakelog.Artifact("ds", "dataset")
    artifact.add_file(source)
    with pytest.raises(ArtifactError, match="overwrite=True"):
        artifact.add_file(source)
    artifact.add_file(source, overwrite=True)


def test_file_references_checksum_what_the_sdk_sees(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "x.txt").write_bytes(b"xx")
    (tmp_path / "ref" / "y.txt").write_bytes(b"yy")
    artifact = wakelog.Artifact("refs", "dataset")
    entries = artifact.add_reference((tmp_path / "ref").as_uri(), name="r")
    assert [e.path for e in entries] == ["r/x.txt", "r/y.txt"]
    assert entries[0].digest == b64md5(b"xx") and entries[0].ref == (tmp_path / "ref" / "x.txt").as_uri()
    assert entries[0].sha256 is None
    unchecked = artifact.add_reference("https://example.invalid/data.csv", checksum=False)[0]
    assert unchecked.digest == unchecked.ref == "https://example.invalid/data.csv"
    with pytest.raises(ArtifactError, match="max_objects=1"):
        artifact.add_reference((tmp_path / "ref").as_uri(), max_objects=1)


def test_an_unreachable_reference_is_an_error_naming_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    uri = f"http://127.0.0.1:{port}/weights.bin"
    with pytest.raises(ArtifactError, match=f"127.0.0.1:{port}/weights.bin"):
        wakelog.Artifact("refs", "model").add_reference(uri)


def test_tables_are_added_as_wandb_lays_them_out_with_their_images() -> None:
    import numpy as np

    artifact = wakelog.Artifact("tables", "dataset")
    pixels = np.zeros((4, 4, 3), dtype=np.uint8)
    table = wakelog.Table(columns=["a", "img"], data=[[1, wakelog.Image(pixels)], [2, None]])
    entry = artifact.add(table, "scores")
    assert entry.path == "scores.table.json"
    data = json.loads(Path(entry.local_path).read_text())
    assert (data["_type"], data["columns"], data["nrows"]) == ("table", ["a", "img"], 2)
    image = data["data"][0][1]
    assert image["_type"] == "image-file" and image["path"].startswith("media/images/")
    assert sorted(artifact.manifest.entries) == [image["path"], "scores.table.json"]  # the image: an entry
    single = artifact.add(wakelog.Image(pixels), "sample")
    assert single.path == "sample.image-file.json"
    sample = json.loads(Path(single.local_path).read_text())["path"]
    assert sample.startswith("media/images/") and sample in artifact.manifest.entries


def test_log_artifact_records_a_complete_manifest_and_snapshots_mutable_files(tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(b"epoch-1")
    pinned = tmp_path / "pinned.bin"
    pinned.write_bytes(b"frozen")
    run = wakelog.init(mode="offline", project="arts")
    artifact = wakelog.Artifact("model", "model")
    artifact.add_file(source)
    artifact.add_file(pinned, policy="immutable")
    logged = run.log_artifact(artifact, aliases=["best"])
    assert logged is artifact
    with pytest.raises(ArtifactFinalizedError, match="new_draft"):
        artifact.add_file(source, name="again.bin")
    run_dir = Path(run.run_dir)
    run.finish()
    source.write_bytes(b"epoch-2")  # after logging: the logged content stays epoch-1
    (record,) = [r.data for r in records(run_dir, "artifact")]
    assert record["name"] == "model" and record["aliases"] == ["latest", "best"]
    manifest = json.loads((run_dir / record["manifest"]).read_text())["entries"]
    assert Path(manifest["weights.bin"]["local"]).read_bytes() == b"epoch-1"
    assert manifest["weights.bin"]["digest"] == b64md5(b"epoch-1")
    assert manifest["pinned.bin"]["local"] == str(pinned)
    assert record["digest"] == wandb_manifest_digest({k: v["digest"] for k, v in manifest.items()})
    with pytest.raises(ArtifactNotLoggedError, match="wakelog sync"):
        artifact.wait()
    draft = artifact.new_draft()
    assert draft.is_draft() and draft.digest == artifact.digest


def test_tags_and_a_ttl_go_into_the_record_and_only_a_draft_takes_them(tmp_path: Path) -> None:
    """``artifact.tags``/``artifact.ttl`` on a draft and ``log_artifact(tags=…)`` (wandb's calls):
    recorded with the artifact for the uploader; checked as the server checks them; a logged
    artifact is final."""
    (tmp_path / "t.txt").write_text("t")
    run = wakelog.init(mode="offline", project="arts")
    artifact = wakelog.Artifact("tagged", "dataset")
    artifact.add_file(tmp_path / "t.txt")
    assert (artifact.tags, artifact.ttl) == ([], None)
    artifact.tags = ["raw", "from camera", "raw"]
    artifact.ttl = timedelta(days=2)
    with pytest.raises(ArtifactError, match="tag"):
        artifact.tags = ["a/b"]
    for bad in (timedelta(0), 3600):
        with pytest.raises(ArtifactError, match="ttl"):
            artifact.ttl = bad  # type: ignore[assignment]
    run.log_artifact(artifact, tags=["more"])
    assert (artifact.tags, artifact.ttl) == (["raw", "from camera", "more"], timedelta(days=2))
    with pytest.raises(ArtifactFinalizedError):
        artifact.tags = ["late"]
    run_dir = Path(run.run_dir)
    run.finish()
    (record,) = [r.data for r in records(run_dir, "artifact")]
    assert (record["tags"], record["ttl"]) == (["raw", "from camera", "more"], 2 * 86400)


def test_log_artifact_of_a_path_names_it_after_the_run(tmp_path: Path) -> None:
    (tmp_path / "ckpt.pd").write_bytes(b"w")
    with wakelog.init(mode="offline", project="arts") as run:
        artifact = run.log_artifact(str(tmp_path / "ckpt.pd"), type="model")
        assert artifact.name == f"run-{run.id}-ckpt.pd"
        assert list(artifact.manifest.entries) == ["ckpt.pd"]


def test_the_cache_evicts_least_recently_used_files_first(tmp_path: Path) -> None:
    import os

    cache = ArtifactCache(tmp_path / "cache", max_bytes=10)
    for index, sha in enumerate(["a" * 64, "b" * 64, "c" * 64]):
        fd, temp = cache.temp_file()
        os.write(fd, b"12345")
        os.close(fd)
        path = cache.commit(temp, sha)
        os.utime(path, (1000 + index, 1000 + index))
    cache.get("a" * 64)  # used just now: the newest
    assert cache.evict() == 5
    assert cache.get("b" * 64) is None and cache.get("a" * 64) and cache.get("c" * 64)


def test_the_cache_drops_downloads_a_killed_process_left_once_a_day_old(tmp_path: Path) -> None:
    import os
    import time

    cache = ArtifactCache(tmp_path / "cache")
    temps = []
    for _ in range(2):
        fd, temp = cache.temp_file()
        os.write(fd, b"half")
        os.close(fd)
        temps.append(temp)
    old = time.time() - 2 * 86400
    os.utime(temps[0], (old, old))
    assert cache.evict() == 4
    assert not temps[0].exists() and temps[1].exists(), "a download going on now stays"


def test_a_download_that_does_not_match_its_digest_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    entry = ArtifactManifestEntry(
        "w.bin", b64md5(b"good"), sha256=hashlib.sha256(b"good").hexdigest(), size=4
    )
    cache = ArtifactCache(tmp_path / "cache")

    def corrupted(path: str, out: io.BufferedWriter) -> None:
        out.write(b"evil")

    with pytest.raises(ArtifactDigestError, match="w.bin"):
        Downloader(cache, corrupted).place(entry, tmp_path / "out" / "w.bin")
    assert not (tmp_path / "out" / "w.bin").exists()
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_metadata_becomes_plain_json_and_a_bad_value_is_named_at_log_artifact(tmp_path: Path) -> None:
    import numpy as np

    (tmp_path / "w.bin").write_bytes(b"w")
    with wakelog.init(mode="offline", project="arts") as run:
        good = wakelog.Artifact("model", "model", metadata={"acc": np.float64(0.5), "epoch": np.int64(3)})
        good.add_file(tmp_path / "w.bin")
        run.log_artifact(good)
        assert good.metadata == {"acc": 0.5, "epoch": 3}
        bad = wakelog.Artifact("other", "model", metadata={"fn": object()})
        bad.add_file(tmp_path / "w.bin")
        with pytest.raises(ArtifactError, match="'other': metadata"):
            run.log_artifact(bad)
        run_dir = Path(run.run_dir)
    (record,) = [r.data for r in records(run_dir, "artifact")]
    assert record["metadata"] == {"acc": 0.5, "epoch": 3}
