"""Artifact content in the blob store: stored once, shared with run files, collected only when no
run file and no artifact version (trash included) points at it; also on an S3-protocol bucket."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.harness import InProcessServer
from tests.server.conftest import S3Server, query
from tests.server.test_artifacts_api import API, entry, log_version
from tests.server.test_blobs_s3 import bucket_path
from wakelog._artifacts import manifest_digest
from wakelog.cli import main
from wakelog.server.expiry import collect

DAY = 86400.0


def _blob_rows(server: InProcessServer, content: bytes) -> int:
    sha = hashlib.sha256(content).hexdigest()
    return len(query(server, "SELECT sha256 FROM blobs WHERE sha256 = :sha", sha=sha))


def _collect(server: InProcessServer, days: float) -> str:
    """Collect as if ``days`` had passed: unattached content goes after 7 days, the trash after 10."""
    state = server.app.state
    config = dataclasses.replace(state.config, unattached_max_age=7 * DAY, trash_max_age=10 * DAY)
    return str(collect(state.db, state.blobs, config, now=time.time() + days * DAY))


def test_deleted_versions_keep_their_content_until_the_trash_is_emptied(server: InProcessServer) -> None:
    proj = f"admin/gc{uuid.uuid4().hex[:8]}"
    shared, own = b"shared " + uuid.uuid4().bytes, b"only in v1 " + uuid.uuid4().bytes
    with server.client() as client:
        assert log_version(client, proj, "ds", {"s": shared}).status_code == 201
        assert log_version(client, proj, "ds", {"s": shared, "o": own}).status_code == 201
        assert client.delete(f"{API}/artifacts/{proj}/ds:v1").status_code == 204
        # in the trash: content old enough to collect stays while the deleted version names it
        _collect(server, 8)
        assert _blob_rows(server, own) == 1
        assert server.app.state.blobs.exists(hashlib.sha256(own).hexdigest())
        # past the trash period and the unattached age: purged, and its own content collected
        report = _collect(server, 30)
        assert "1 artifact versions, 0 runs and 0 projects from the trash" in report, report
        assert _blob_rows(server, own) == 0
        assert not server.app.state.blobs.exists(hashlib.sha256(own).hexdigest())
        assert _blob_rows(server, shared) == 1, "v0 still uses it"
        assert client.get(f"{API}/artifacts/{proj}/ds:v0/files/s").content == shared
        assert (
            query(server, "SELECT COUNT(*) AS n FROM artifact_versions WHERE deleted_at IS NOT NULL")[0].n
            == 0
        )


def test_content_logged_by_runs_and_artifacts_is_stored_once(server: InProcessServer) -> None:
    proj = f"admin/dedup{uuid.uuid4().hex[:8]}"
    content = b"checkpoint " + uuid.uuid4().bytes
    sha = hashlib.sha256(content).hexdigest()
    with server.client() as client:
        log_version(client, proj, "a", {"w.bin": content}, run_id="r1")
        log_version(client, proj, "b", {"copy/w.bin": content}, run_id="r1")
        attached = client.post(
            f"{API}/runs/{proj}/r1/files",
            json={"files": [{"name": "w.bin", "sha256": sha, "size": len(content)}]},
        )
        assert attached.json() == {"attached": 1}
    assert _blob_rows(server, content) == 1
    assert len(query(server, "SELECT version_pk FROM artifact_files WHERE sha256 = :sha", sha=sha)) == 2


@pytest.mark.parametrize("command", [["server", "gc"], ["gc"]], ids=["server-gc", "gc"])
def test_server_gc_purges_the_trash_from_the_command_line(tmp_path: Path, command: list[str]) -> None:
    content = b"to be collected " + uuid.uuid4().bytes
    sha = hashlib.sha256(content).hexdigest()
    with InProcessServer(tmp_path / "data", gc_seconds=0) as server, server.client() as client:
        log_version(client, "admin/p", "gone", {"f": content})
        assert client.delete(f"{API}/artifacts/admin/p/gone:v0").status_code == 204
        args = [
            *command,
            "--data-dir",
            str(server.data_dir),
            "--trash-max-age",
            "0s",
            "--unattached-max-age",
            "0s",
        ]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert (
            "1 artifact versions, 0 runs and 0 projects from the trash" in result.output
            and "1 unattached blobs" in result.output
        )
        assert not server.app.state.blobs.exists(sha)


def test_artifacts_on_an_s3_bucket(s3_backed_server: InProcessServer, s3_server: S3Server) -> None:
    content = b"weights in a bucket " + uuid.uuid4().bytes
    sha = hashlib.sha256(content).hexdigest()
    fs = s3_server.fs()
    target = f"{bucket_path(s3_backed_server)}/{sha[:2]}/{sha}"
    with s3_backed_server.client() as client:
        made = log_version(client, "admin/s3", "model", {"w.bin": content}, type_="model")
        assert made.status_code == 201, made.text
        assert fs.cat_file(target) == content
        assert client.get(f"{API}/artifacts/admin/s3/model:latest/files/w.bin").content == content
        ranged = client.get(f"{API}/artifacts/admin/s3/model:v0/files/w.bin", headers={"Range": "bytes=0-6"})
        assert ranged.status_code == 206 and ranged.content == content[:7]
        again = log_version(client, "admin/s3", "model", {"w.bin": content}, type_="model")
        assert again.status_code == 200 and again.json()["version"] == "v0"
        assert client.delete(f"{API}/artifacts/admin/s3/model:v0").status_code == 204
        _collect(s3_backed_server, 30)
        assert not fs.exists(target)


def test_artifact_content_counts_toward_the_entity_quota_and_a_version_past_it_is_refused_whole(
    server: InProcessServer,
) -> None:
    from tests.server.test_storage import attach, refused_for_storage

    team = f"q{uuid.uuid4().hex[:8]}"
    first, second, third = (os.urandom(3000) for _ in range(3))
    with server.client() as admin:
        assert admin.post(f"{API}/entities", json={"name": team}).status_code == 201
        assert admin.put(f"{API}/entities/{team}/quota", json={"max_bytes": 5000}).status_code == 200
        assert log_version(admin, f"{team}/p", "ds", {"a": first}).status_code == 201
        assert admin.get(f"{API}/entities/{team}/quota").json()["bytes"] == 3000
        # the same content again, in a run file or another version, is counted once
        assert attach(admin, f"{team}/p/r", "a.bin", first).status_code == 200
        copy = admin.post(f"{API}/projects/{team}/p/artifacts", json=version_body("copy", first))
        assert copy.status_code == 201, copy.text
        assert admin.get(f"{API}/entities/{team}/quota").json()["bytes"] == 3000
        # content uploaded under another entity (its uploader holds it), then named in a version here
        elsewhere = f"e{uuid.uuid4().hex[:8]}"
        assert admin.post(f"{API}/entities", json={"name": elsewhere}).status_code == 201
        log_version(admin, f"{elsewhere}/p", "held", {"b": second, "c": third})
        too_much = version_body("ds", first, second, third)
        refused = admin.post(f"{API}/projects/{team}/p/artifacts", json=too_much)
        assert refused_for_storage(refused, f"entity {team!r}", "quota"), refused.text
        # nothing of it is visible: still one version, and its content is attached to nothing
        assert [v["version"] for v in admin.get(f"{API}/artifacts/{team}/p/ds/versions").json()] == ["v0"]
        assert admin.get(f"{API}/artifacts/{team}/p/ds:v1").status_code == 404
        named = query(
            server,
            "SELECT COUNT(*) AS n FROM artifact_files WHERE sha256 = :sha",
            sha=hashlib.sha256(second).hexdigest(),
        )
        assert named[0].n == 1, "only the other entity's version names it"
        assert admin.get(f"{API}/entities/{team}/quota").json()["bytes"] == 3000
        # deleting the version gives nothing back until the trash is emptied: its content stays stored
        assert admin.delete(f"{API}/artifacts/{team}/p/copy:v0").status_code == 204
        assert admin.put(f"{API}/entities/{team}/quota", json={"max_bytes": None}).status_code == 200
        made = admin.post(f"{API}/projects/{team}/p/artifacts", json=version_body("ds", first, second))
        assert made.status_code == 201 and made.json()["version"] == "v1", made.text
        assert admin.get(f"{API}/entities/{team}/quota").json()["bytes"] == 6000


def version_body(name: str, *contents: bytes) -> dict[str, object]:
    """A version of files ``f0``, ``f1``… whose content the sender holds already."""
    entries = {f"f{i}": entry(c) for i, c in enumerate(contents)}
    digest = manifest_digest((p, e["digest"]) for p, e in entries.items())
    return {"name": name, "type": "dataset", "manifest": {"version": 1, "entries": entries}, "digest": digest}
