"""Runs managed by people: edits, last-writer-wins against the SDK, the trash, bulk actions, moves."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

import wakelog
from tests.harness import InProcessServer
from tests.server.conftest import post_records
from wakelog.server.expiry import collect

API = "/api/v1"
DAY = 24 * 3600.0


def _project(client: httpx.Client, *run_ids: str, state: str = "finished") -> str:
    """A new project of the admin with finished runs ``run_ids``; its ``entity/project``."""
    project = f"admin/p{uuid.uuid4().hex[:8]}"
    for run_id in run_ids:
        records = [
            [0, "run", 1.0, {"name": run_id, "tags": ["sdk"]}],
            [1, "history", 2.0, {"_step": 0, "loss": 1.0}],
        ]
        if state == "finished":
            records.append([2, "exit", 3.0, {"exit_code": 0}])
        assert post_records(client, f"{project}/{run_id}", records).status_code == 200
    return project


def _ids(client: httpx.Client, project: str) -> list[str]:
    answer = client.get(f"{API}/projects/{project}/runs", params={"order": "id"})
    assert answer.status_code == 200, answer.text
    return [r["id"] for r in answer.json()["runs"]]


def test_editing_a_run_sets_only_the_fields_given(server: InProcessServer) -> None:
    with server.client() as admin:
        project = _project(admin, "r1")
        edit = {"name": "baseline", "tags": ["best", "fp16"], "notes": "# why\n`lr=3e-4`", "group": "g"}
        answer = admin.patch(f"{API}/runs/{project}/r1", json=edit)
        assert answer.status_code == 200, answer.text
        run = answer.json()
        assert (run["name"], run["tags"], run["notes"], run["group"]) == (
            "baseline",
            ["best", "fp16"],
            "# why\n`lr=3e-4`",
            "g",
        )
        assert admin.patch(f"{API}/runs/{project}/r1", json={"job_type": "eval"}).json()["name"] == "baseline"
        cleared = admin.patch(f"{API}/runs/{project}/r1", json={"notes": None, "tags": None}).json()
        assert cleared["notes"] is None and cleared["tags"] == [] and cleared["job_type"] == "eval"
        for bad in ({"tags": "x"}, {"name": "n" * 257}, {"tags": [""]}):
            assert admin.patch(f"{API}/runs/{project}/r1", json=bad).status_code == 422, bad
        assert admin.patch(f"{API}/runs/{project}/nope", json={"name": "x"}).status_code == 404
        assert admin.get(f"{API}/projects/{project}/runs", params={"tag": "best"}).json()["total"] == 0


def test_the_sdk_wins_only_with_values_recorded_after_the_edit(server: InProcessServer) -> None:
    with server.client() as admin:
        project = _project(admin, "live", state="running")
        assert admin.patch(f"{API}/runs/{project}/live", json={"tags": ["from-ui"], "notes": "ui"}).is_success
        before = time.time() - 60  # recorded by the training before the edit, arriving after it
        post_records(
            admin, f"{project}/live", [[2, "run", before, {"update": True, "tags": ["old"], "name": "n2"}]]
        )
        run = admin.get(f"{API}/runs/{project}/live").json()
        assert run["tags"] == ["from-ui"] and run["notes"] == "ui", "the newer edit stays"
        assert run["name"] == "n2", "a field nobody edited takes the SDK's value"
        later = time.time() + 60
        post_records(admin, f"{project}/live", [[3, "run", later, {"update": True, "tags": ["new"]}]])
        run = admin.get(f"{API}/runs/{project}/live").json()
        assert run["tags"] == ["new"] and run["notes"] == "ui"


def test_a_deleted_run_waits_in_the_trash_and_comes_back_whole(server: InProcessServer) -> None:
    with server.client() as admin:
        project = _project(admin, "a", "b")
        assert admin.delete(f"{API}/runs/{project}/a").status_code == 204
        assert admin.get(f"{API}/runs/{project}/a").status_code == 404
        assert admin.get(f"{API}/runs/{project}/a/history", params={"keys": "loss"}).status_code == 404
        assert _ids(admin, project) == ["b"]
        assert admin.get(f"{API}/projects/{project}").json()["runs"] == 1
        trash = admin.get(f"{API}/projects/{project}/trash").json()
        assert [t["id"] for t in trash] == ["a"]
        assert trash[0]["purge_at"] == pytest.approx(trash[0]["deleted_at"] + 30 * DAY)
        refused = post_records(admin, f"{project}/a", [[3, "history", 4.0, {"_step": 1, "loss": 0.5}]])
        assert refused.status_code == 409 and refused.json()["code"] == "in_trash", refused.text
        assert admin.delete(f"{API}/runs/{project}/a").status_code == 404, "already in the trash"
        assert admin.post(f"{API}/runs/{project}/a/restore").status_code == 204
        assert admin.post(f"{API}/runs/{project}/a/restore").status_code == 404
        assert _ids(admin, project) == ["a", "b"]
        assert admin.get(f"{API}/runs/{project}/a").json()["last_step"] == 0
        assert post_records(
            admin, f"{project}/a", [[3, "history", 4.0, {"_step": 1, "loss": 0.5}]]
        ).is_success


def test_bulk_actions_report_what_changed(server: InProcessServer) -> None:
    with server.client() as admin:
        project = _project(admin, "a", "b", "c")
        bulk = f"{API}/projects/{project}/runs/bulk"
        tagged = admin.post(bulk, json={"action": "tag", "runs": ["a", "b", "zz"], "tags": ["x", "sdk"]})
        assert tagged.json() == {"changed": ["a", "b"], "missing": ["zz"]}
        assert admin.get(f"{API}/runs/{project}/a").json()["tags"] == ["sdk", "x"]
        untagged = admin.post(bulk, json={"action": "untag", "runs": ["a", "c"], "tags": ["sdk"]})
        assert untagged.json()["changed"] == ["a", "c"]
        assert admin.get(f"{API}/projects/{project}/runs", params={"tag": "sdk"}).json()["total"] == 1
        assert admin.post(bulk, json={"action": "tag", "runs": ["a"]}).status_code == 400
        assert admin.post(bulk, json={"action": "smash", "runs": ["a"]}).status_code == 422
        assert admin.post(bulk, json={"action": "delete", "runs": ["a", "b"]}).json()["changed"] == ["a", "b"]
        assert _ids(admin, project) == ["c"]
        assert admin.post(bulk, json={"action": "restore", "runs": ["b"]}).json()["changed"] == ["b"]
        assert _ids(admin, project) == ["b", "c"]


def test_runs_move_to_projects_their_mover_may_write(server: InProcessServer) -> None:
    with server.client() as admin:
        source = _project(admin, "a", "b")
        target = _project(admin, "b")
        bulk = f"{API}/projects/{source}/runs/bulk"
        clash = admin.post(bulk, json={"action": "move", "runs": ["a", "b"], "to": target})
        assert clash.status_code == 409 and "b" in clash.json()["detail"]
        assert _ids(admin, source) == ["a", "b"], "refused whole"
        moved = admin.post(bulk, json={"action": "move", "runs": ["a"], "to": target})
        assert moved.json() == {"changed": ["a"], "missing": []}
        assert _ids(admin, target) == ["a", "b"] and _ids(admin, source) == ["b"]
        assert admin.get(f"{API}/runs/{target}/a/history", params={"keys": "loss"}).json()["series"]
        running = _project(admin, "live", state="running")
        refused = admin.post(
            f"{API}/projects/{running}/runs/bulk", json={"action": "move", "runs": ["live"], "to": target}
        )
        assert refused.status_code == 409 and "running" in refused.json()["detail"]
        assert admin.post(bulk, json={"action": "move", "runs": ["b"], "to": "nothing"}).status_code == 400
        admin.post(f"{API}/users", json={"username": "mover"})
        key = admin.post(f"{API}/keys", json={"user": "mover"}).json()["key"]
        assert admin.put(f"{API}/entities/admin/members/mover", json={"role": "member"}).is_success
        readonly = f"ro{uuid.uuid4().hex[:6]}"
        assert admin.post(f"{API}/entities", json={"name": readonly}).status_code == 201
        assert admin.put(f"{API}/entities/{readonly}/members/mover", json={"role": "viewer"}).is_success
    with server.client(key) as mover:
        read_only = mover.post(bulk, json={"action": "move", "runs": ["b"], "to": f"{readonly}/p"})
        assert read_only.status_code == 403 and "member role" in read_only.json()["detail"], read_only.text
        assert _ids(mover, source) == ["b"], "a target the mover only reads takes nothing"
        assert mover.post(bulk, json={"action": "move", "runs": ["b"], "to": "mover/mine"}).is_success
        assert _ids(mover, "mover/mine") == ["b"]
        refused = mover.post(
            f"{API}/projects/mover/mine/runs/bulk",
            json={"action": "move", "runs": ["b"], "to": "elsewhere/p"},
        )
        assert refused.status_code == 403, "the target's entity decides"


def test_purging_the_trash_frees_content_only_those_runs_held(server: InProcessServer) -> None:
    content = b"checkpoint " + uuid.uuid4().bytes
    shared = b"dataset " + uuid.uuid4().bytes  # held by the purged run and a kept one
    sha, shared_sha = hashlib.sha256(content).hexdigest(), hashlib.sha256(shared).hexdigest()
    with server.client() as admin:
        project = _project(admin, "gone", "kept")
        for blob, blob_sha in ((content, sha), (shared, shared_sha)):
            put = admin.put(
                f"{API}/runs/{project}/gone/blobs/{blob_sha}",
                params={"offset": 0, "total": len(blob)},
                content=blob,
            )
            assert put.json()["complete"] is True
        files = {
            "gone": [("w.bin", content, sha), ("data.bin", shared, shared_sha)],
            "kept": [("data.bin", shared, shared_sha)],
        }
        for run_id, entries in files.items():
            attached = admin.post(
                f"{API}/runs/{project}/{run_id}/files",
                json={"files": [{"name": n, "sha256": h, "size": len(b)} for n, b, h in entries]},
            )
            assert attached.status_code == 200, attached.text
        assert admin.delete(f"{API}/runs/{project}/gone").status_code == 204
        state = server.app.state
        config = dataclasses.replace(state.config, unattached_max_age=0.0)
        early = collect(state.db, state.blobs, config, now=time.time() + 29 * DAY)
        assert early.purged_runs == 0 and state.blobs.exists(sha), "still restorable"
        done = collect(state.db, state.blobs, config, now=time.time() + 31 * DAY)
        assert done.purged_runs >= 1 and done.unattached >= 1  # other tests left runs there too
        assert not state.blobs.exists(sha)
        assert state.blobs.exists(shared_sha), "a kept run still points at it"
        kept = admin.get(f"{API}/runs/{project}/kept/files/data.bin")
        assert kept.status_code == 200 and kept.content == shared
        assert admin.get(f"{API}/projects/{project}/trash").json() == []
        assert _ids(admin, project) == ["kept"]


def test_the_api_edits_and_deletes_runs_as_wandb_does(server: InProcessServer) -> None:
    with server.client() as admin:
        project = _project(admin, "r1")
    api = wakelog.Api(overrides={"base_url": server.url, "api_key": server.key})
    try:
        run = api.run(f"{project}/r1")
        run.name = "renamed"
        run.tags.append("reviewed")
        run.notes = "looks **good**"
        run.update()
        again = api.run(f"{project}/r1")
        assert (again.name, again.tags, again.notes) == ("renamed", ["sdk", "reviewed"], "looks **good**")
        again.delete()
        assert len(api.runs(project)) == 0
    finally:
        api.close()


def test_open_pages_hear_of_edits_deletes_and_moves(server: InProcessServer) -> None:
    from tests.server.test_query_events import Listener

    with server.client() as admin:
        project = _project(admin, "a", "b")
        target = _project(admin, "x")
        listeners = [Listener(server, f"{API}/projects/{p}/events") for p in (project, target)]
        try:
            for listener in listeners:
                assert listener.next() == ("status", 200) and listener.next()[0] == "ready"
            stream, arrivals = listeners
            assert admin.patch(f"{API}/runs/{project}/a", json={"name": "x"}).is_success
            assert stream.next() == ("run_updated", {"run_id": "a", "ack": None})
            assert admin.delete(f"{API}/runs/{project}/a").status_code == 204
            assert stream.next() == ("run_updated", {"run_id": "a", "ack": None})
            admin.post(
                f"{API}/projects/{project}/runs/bulk", json={"action": "move", "runs": ["b"], "to": target}
            )
            assert stream.next() == ("run_updated", {"run_id": "b", "ack": None})
            assert arrivals.next() == ("run_updated", {"run_id": "b", "ack": None})
        finally:
            for listener in listeners:
                listener.close()


def test_the_docs_example_edits_moves_and_deletes_a_run(
    server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/collaboration.md's "Editing runs" example, run against this server."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "collaboration.md").read_text()
    section = text[text.index("## Editing runs") : text.index("### Edits and a training")]
    [block] = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    with server.client() as admin:
        project = _project(admin, "r1")
        archive = f"admin/archive{uuid.uuid4().hex[:6]}"
        monkeypatch.setenv("WAKELOG_BASE_URL", server.url)
        monkeypatch.setenv("WAKELOG_API_KEY", server.key)
        code = block.replace("acme/detection/3fa9c2", f"{project}/r1").replace("acme/archive", archive)
        scope: dict[str, Any] = {}
        try:
            exec(compile(code, "collaboration.md: editing runs", "exec"), scope)
        finally:
            if "api" in scope:
                scope["api"].close()
        assert _ids(admin, project) == [] and _ids(admin, archive) == []
        [trashed] = admin.get(f"{API}/projects/{archive}/trash").json()
        assert (trashed["id"], trashed["name"]) == ("r1", "baseline, fp16")
        assert admin.post(f"{API}/runs/{archive}/r1/restore").status_code == 204
        run = admin.get(f"{API}/runs/{archive}/r1").json()
        assert run["tags"] == ["sdk", "reviewed"] and run["notes"].startswith("lr warm-up **helps**")
