"""Artifacts from the run log to the server and back, with the real uploader and app in one process:
created once (idempotent by digest, across uploader restarts), only missing content uploaded, uses
and links recorded on sync, downloads verified and served from a warm cache without blob requests."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

import wakelog
from tests.harness import CountingTransport, InProcessServer, upload
from wakelog._artifacts import STAGING
from wakelog.runlog.syncstate import FILE, SyncState
from wakelog.sdk.artifacts import ArtifactDigestError
from wakelog.sdk.artifacts._resolve import fetch
from wakelog.transport.artifacts import HttpArtifactServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path_factory.mktemp("artifact-server") / "data") as app:
        yield app


@pytest.fixture(autouse=True)
def no_default_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Offline runs' lookups meet a closed port (never a server someone runs on 8080); the cache is
    the test's."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("WAKELOG_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("WAKELOG_CACHE_DIR", str(tmp_path / "cache"))


def files(root: Path, contents: dict[str, bytes]) -> Path:
    for name, content in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def log_dataset(root: Path, project: str, contents: dict[str, bytes], **use: str) -> Path:
    """An offline run of entity ``lab`` logging ``contents`` as the artifact ``data``; returns its folder."""
    with wakelog.init(mode="offline", project=project, entity="lab", dir=str(root)) as run:
        for name in use.values():
            run.use_artifact(name)
        artifact = wakelog.Artifact("data", "dataset", metadata={"n": len(contents)})
        artifact.add_dir(files(root / "src", contents))
        run.log_artifact(artifact, aliases=["candidate"])
        return Path(run.run_dir)


def versions(server: InProcessServer, project: str, name: str = "data") -> list[dict]:
    with server.client() as http:
        answer = http.get(f"/api/v1/artifacts/lab/{project}/{name}/versions")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_logged_artifact_is_created_once_even_when_the_uploader_starts_over(
    server: InProcessServer, tmp_path: Path
) -> None:
    run_dir = log_dataset(tmp_path / "r1", "once", {"a.txt": b"alpha", "b/c.txt": b"gamma"})
    state = upload(server, run_dir)
    assert state.complete and not state.artifact_queue
    (made,) = state.artifacts.values()
    assert made["version"] == "v0" and set(made["aliases"]) >= {"latest", "candidate"}
    (run_dir / FILE).unlink()  # an uploader that lost its state: it reads the log from the start again
    counted = CountingTransport(server.transport())
    assert upload(server, run_dir, transport=counted).complete
    assert [v["version"] for v in versions(server, "once")] == ["v0"]
    assert counted.uploaded == set()


def test_a_second_version_uploads_only_the_changed_file(server: InProcessServer, tmp_path: Path) -> None:
    contents = {f"f{i}.txt": f"file {i}".encode() for i in range(5)}
    upload(server, log_dataset(tmp_path / "r1", "incr", contents))
    counted = CountingTransport(server.transport())
    state = upload(
        server, log_dataset(tmp_path / "r2", "incr", {**contents, "f3.txt": b"changed"}), transport=counted
    )
    (made,) = state.artifacts.values()
    assert made["version"] == "v1"
    assert counted.uploaded == {hashlib.sha256(b"changed").hexdigest()}
    same = upload(server, log_dataset(tmp_path / "r3", "incr", {**contents, "f3.txt": b"changed"}))
    assert next(iter(same.artifacts.values()))["version"] == "v1"  # the same content: the same version


def test_uses_recorded_offline_are_resolved_on_sync_and_links_reach_the_registry(
    server: InProcessServer, tmp_path: Path
) -> None:
    upload(server, log_dataset(tmp_path / "r1", "lineage", {"x.txt": b"x"}))
    with wakelog.init(mode="offline", project="lineage", entity="lab", dir=str(tmp_path / "r2")) as run:
        used = run.use_artifact("data:latest")
        assert used.name == "data"  # no server answers an offline run: resolved when synced
        model = wakelog.Artifact("clf", "model")
        with model.new_file("weights.txt") as f:
            f.write("w")
        run.log_artifact(model)
        run.link_artifact(model, "models/digits-clf", aliases=["staging"])
        run_id, run_dir = run.id, Path(run.run_dir)
    assert upload(server, run_dir).complete
    with server.client() as http:
        lineage = http.get(f"/api/v1/runs/lab/lineage/{run_id}/artifacts").json()
        linked = http.get("/api/v1/registry/lab/digits-clf").json()
    assert [(a["name"], a["version"]) for a in lineage["used"]] == [("data", "v0")]
    assert [(a["name"], a["version"]) for a in lineage["logged"]] == [("clf", "v0")]
    assert "staging" in str(linked)


def test_downloads_are_verified_and_a_warm_cache_makes_no_blob_requests(
    server: InProcessServer, tmp_path: Path
) -> None:
    contents = {"a.txt": b"alpha" * 1000, "deep/b.bin": bytes(range(256)) * 64}
    upload(server, log_dataset(tmp_path / "r1", "down", contents))
    counted = CountingTransport(server.transport())
    artifact_server = HttpArtifactServer(server.base_url, server.key, transport=counted)
    try:
        artifact = fetch(artifact_server, "lab/down/data:latest", entity=None, project=None)
        assert artifact.version == "v0" and artifact.qualified_name == "lab/down/data:v0"
        first = Path(artifact.download(tmp_path / "one"))
        assert {p: (first / p).read_bytes() for p in contents} == contents
        assert counted.count("GET", "/files/") == 2
        again = fetch(artifact_server, "lab/down/data:v0", entity=None, project=None)
        second = Path(again.download(tmp_path / "two"))
        assert counted.count("GET", "/files/") == 2  # every byte came from the cache
        again.verify(second)
        (second / "a.txt").write_bytes(b"tampered")
        with pytest.raises(ArtifactDigestError, match="a.txt"):
            again.verify(second)
        (second / "stray.txt").write_text("not in the artifact")
        again.checkout(second)
        assert sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file()) == [
            "a.txt",
            "deep/b.bin",
        ]
        assert (second / "a.txt").read_bytes() == contents["a.txt"]
        entry = again.get_path("deep/b.bin")
        assert Path(entry.download(str(tmp_path / "three"))).read_bytes() == contents["deep/b.bin"]
    finally:
        artifact_server.close()


def test_a_damaged_cache_file_is_fetched_again_never_copied(server: InProcessServer, tmp_path: Path) -> None:
    upload(server, log_dataset(tmp_path / "r1", "damage", {"w.bin": b"weights"}))
    artifact_server = HttpArtifactServer(server.base_url, server.key, transport=server.transport())
    try:
        artifact = fetch(artifact_server, "lab/damage/data:v0", entity=None, project=None)
        artifact.download(tmp_path / "one")
        (cached,) = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
        cached.write_bytes(b"garbage")
        assert (Path(artifact.download(tmp_path / "two")) / "w.bin").read_bytes() == b"weights"
    finally:
        artifact_server.close()


def test_the_public_api_reads_artifacts_and_run_lineage(server: InProcessServer, tmp_path: Path) -> None:
    run_dir = log_dataset(tmp_path / "r1", "public", {"a.txt": b"a"})
    upload(server, run_dir)
    run_id = SyncState.load(run_dir).run_path.rsplit("/", 1)[-1]
    with wakelog.Api(overrides={"base_url": server.url, "api_key": server.key}) as api:
        artifact = api.artifact("lab/public/data:candidate", type="dataset")
        assert (artifact.name, artifact.type, artifact.metadata) == ("data:v0", "dataset", {"n": 1})
        assert [a.version for a in api.artifact_versions("dataset", "lab/public/data")] == ["v0"]
        assert api.artifact_exists("lab/public/data:v0") and not api.artifact_exists("lab/public/data:v9")
        run = api.run(f"lab/public/{run_id}")
        assert [a.name for a in run.logged_artifacts()] == ["data:v0"]
        assert run.used_artifacts() == []


def open_connections_to(url: str) -> int:
    """This process's sockets connected to the server at ``url`` (its client ends only)."""
    port = urlsplit(url).port
    return sum(1 for c in psutil.Process().net_connections("tcp") if c.raddr and c.raddr.port == port)


def test_a_used_artifact_keeps_no_connection_open_between_reads(
    server: InProcessServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run.use_artifact`` closes the connection it looked the version up with; each later read
    (the manifest, a download, one file) opens its own and closes it, also after the run ended."""
    upload(server, log_dataset(tmp_path / "r1", "reads", {"a.txt": b"alpha", "b.txt": b"beta"}))
    monkeypatch.setenv("WAKELOG_BASE_URL", server.url)
    monkeypatch.setenv("WAKELOG_API_KEY", server.key)
    with wakelog.init(mode="offline", project="reads", entity="lab", dir=str(tmp_path / "r2")) as run:
        used = run.use_artifact("data:latest")
        assert used.qualified_name == "lab/reads/data:v0"
        assert open_connections_to(server.url) == 0
    assert sorted(used.manifest.entries) == ["a.txt", "b.txt"]
    assert open_connections_to(server.url) == 0
    first = Path(used.download(str(tmp_path / "one")))
    assert (first / "a.txt").read_bytes() == b"alpha"
    assert open_connections_to(server.url) == 0
    (tmp_path / "cache").rename(tmp_path / "cold")  # the next reads ask the server again
    assert (Path(used.download(str(tmp_path / "two"))) / "b.txt").read_bytes() == b"beta"
    assert Path(used.get_path("a.txt").download(str(tmp_path / "three"))).read_bytes() == b"alpha"
    assert open_connections_to(server.url) == 0


@pytest.mark.process  # the online path: the training's artifact thread, the uploader process, wait()
def test_an_online_run_waits_for_its_version_and_uses_it_back(
    server: InProcessServer, tmp_path: Path
) -> None:
    import subprocess
    import sys
    import textwrap

    from tests._env import child_env

    files(tmp_path, {"ckpt/w.bin": b"weights"})
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import wakelog
            run = wakelog.init()
            model = wakelog.Artifact("net", "model")
            model.add_dir("ckpt")
            run.log_artifact(model, aliases=["best"])
            model.wait(timeout=120)
            print("VERSION", model.qualified_name, sorted(model.aliases))
            back = run.use_artifact("net:best", type="model")
            print("FILE", open(back.download() + "/w.bin").read())
            run.finish()
            """
        )
    )
    env = child_env(
        WAKELOG_MODE="online",
        WAKELOG_BASE_URL=server.url,
        WAKELOG_API_KEY=server.key,
        WAKELOG_ENTITY="lab",
        WAKELOG_PROJECT="online",
        WAKELOG_CACHE_DIR=str(tmp_path / "cache"),
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "VERSION lab/online/net:v0 ['best', 'latest']" in done.stdout
    assert "FILE weights" in done.stdout


def test_a_tables_images_come_back_with_the_artifact(server: InProcessServer, tmp_path: Path) -> None:
    import json

    import numpy as np

    pixels = np.full((4, 4, 3), 200, dtype=np.uint8)
    with wakelog.init(mode="offline", project="tables", entity="lab", dir=str(tmp_path / "r")) as run:
        artifact = wakelog.Artifact("preds", "predictions")
        artifact.add(wakelog.Table(columns=["id", "img"], data=[[1, wakelog.Image(pixels)]]), "scores")
        run.log_artifact(artifact)
        run_dir = Path(run.run_dir)
    assert upload(server, run_dir).complete
    artifact_server = HttpArtifactServer(server.base_url, server.key, transport=server.transport())
    try:
        fetched = fetch(artifact_server, "lab/tables/preds:latest", entity=None, project=None)
        folder = Path(fetched.download(tmp_path / "down"))
        with server.client() as http:
            served = http.get("/api/v1/artifacts/lab/tables/preds:v0/files/scores.table.json").json()
    finally:
        artifact_server.close()
    table = json.loads((folder / "scores.table.json").read_text())
    assert served == table
    cell = table["data"][0][1]
    assert (folder / cell["path"]).stat().st_size == cell["size"]  # resolved inside the artifact
    with server.client() as http:  # and served from the artifact's own files, not the creator run's
        image = http.get(f"/api/v1/artifacts/lab/tables/preds:v0/files/{cell['path']}")
    assert image.status_code == 200 and image.content == (folder / cell["path"]).read_bytes()


def test_new_draft_makes_the_next_version_uploading_only_what_changed(
    server: InProcessServer, tmp_path: Path
) -> None:
    contents = {f"f{i}.txt": f"draft file {i}".encode() for i in range(4)}  # content no other test has
    upload(server, log_dataset(tmp_path / "r1", "draft", contents))
    artifact_server = HttpArtifactServer(server.base_url, server.key, transport=server.transport())
    try:
        draft = fetch(artifact_server, "lab/draft/data:v0", entity=None, project=None).new_draft()
    finally:
        artifact_server.close()
    assert draft.is_draft() and sorted(draft.manifest.entries) == sorted(contents)
    draft.remove("f3.txt")
    with draft.new_file("f3.txt") as f:
        f.write("changed in a draft")
    with wakelog.init(mode="offline", project="draft", entity="lab", dir=str(tmp_path / "r2")) as run:
        run.log_artifact(draft)
        run_dir = Path(run.run_dir)
    counted = CountingTransport(server.transport())
    state = upload(server, run_dir, transport=counted)
    assert next(iter(state.artifacts.values()))["version"] == "v1"
    # the unchanged files were never downloaded nor sent
    assert counted.uploaded == {hashlib.sha256(b"changed in a draft").hexdigest()}


def test_staged_copies_go_once_the_version_is_made_and_a_draft_of_it_still_logs(
    server: InProcessServer, tmp_path: Path
) -> None:
    with wakelog.init(mode="offline", project="staged", entity="lab", dir=str(tmp_path / "r1")) as run:
        first = wakelog.Artifact("data", "dataset")
        first.add_dir(files(tmp_path / "src", {"a.txt": b"alpha"}))
        run.log_artifact(first)
    staging = Path(run.run_dir) / STAGING
    (copies,) = staging.iterdir()
    assert [p.name for p in copies.iterdir()] == [hashlib.sha256(b"alpha").hexdigest()]
    (staging / "killed").mkdir()  # what a training killed while copying leaves
    (staging / "killed" / ".part-x").write_bytes(b"half a copy")
    assert upload(server, Path(run.run_dir)).complete
    assert not staging.exists()
    # a draft of the uploaded version: its unchanged file's copy is gone, its content is on the server
    with wakelog.init(mode="offline", project="staged", entity="lab", dir=str(tmp_path / "r2")) as run:
        draft = first.new_draft()
        with draft.new_file("b.txt") as f:
            f.write("beta")
        run.log_artifact(draft)
    state = upload(server, Path(run.run_dir))
    assert next(iter(state.artifacts.values()))["version"] == "v1"
    reader = HttpArtifactServer(server.base_url, server.key, transport=server.transport())
    root = Path(fetch(reader, "lab/staged/data:v1", entity=None, project=None).download(tmp_path / "v1"))
    reader.close()
    assert (root / "a.txt").read_bytes() == b"alpha" and (root / "b.txt").read_text() == "beta"
    assert not (Path(run.run_dir) / STAGING).exists()


def test_an_artifact_that_cannot_be_logged_leaves_no_staged_copies(tmp_path: Path) -> None:
    src = files(tmp_path / "src", {"a.txt": b"alpha", "b.txt": b"beta"})
    with wakelog.init(mode="offline", project="staged", entity="lab", dir=str(tmp_path)) as run:
        artifact = wakelog.Artifact("data", "dataset")
        artifact.add_file(str(src / "a.txt"))
        artifact.add_file(str(src / "b.txt"))
        (src / "b.txt").unlink()  # gone before the artifact thread copies it
        with pytest.warns(RuntimeWarning, match="could not log artifact"):
            run.log_artifact(artifact)
            run.finish()
    assert not any((Path(run.run_dir) / STAGING).iterdir())


def test_content_deleted_behind_the_servers_back_is_a_clear_error_never_a_file(
    server: InProcessServer, tmp_path: Path
) -> None:
    upload(server, log_dataset(tmp_path / "r", "vanished", {"a.txt": b"alpha", "b.txt": b"gone soon"}))
    server.app.state.blobs.delete(hashlib.sha256(b"gone soon").hexdigest())  # not through the server
    with server.client() as http:
        answer = http.get("/api/v1/artifacts/lab/vanished/data:v0/files/b.txt")
        assert answer.status_code == 404 and "missing from the blob store" in answer.json()["detail"]
    assert [v["version"] for v in versions(server, "vanished")] == ["v0"], "the version stays listed"
    reader = HttpArtifactServer(server.base_url, server.key, transport=server.transport())
    artifact = fetch(reader, "lab/vanished/data:v0", entity=None, project=None)
    out = tmp_path / "out"
    with pytest.raises(wakelog.Error, match="'b.txt' is missing from the blob store"):
        artifact.download(out)
    reader.close()
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"], "no partial or empty b.txt"
    assert not list((tmp_path / "cache").rglob(".part-*")), "nothing half-downloaded left in the cache"
    with pytest.raises(ArtifactDigestError, match="lacks the artifact's file 'b.txt'"):
        artifact.verify(out)
