"""Forks of wakelog's SDK (``init(fork_from=…)``) on the server, on SQLite and PostgreSQL.

The fork's first batch (its run record at sequence 0 names ``fork_from``) starts the run with
its parent's rows up to the fork step, once, and the run's metadata names the parent
(``store/fork.py``). The runs are recorded offline by the real SDK and uploaded by the real
uploader in this process (``tests/harness.upload``), as ``wakelog sync`` does later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

import wakelog
from tests.conftest import records
from tests.harness import InProcessServer, record_offline_run, upload
from tests.server.conftest import post_records


def rows(client: httpx.Client, run: str) -> list[tuple[int, Any]]:
    answer = client.get(f"/api/v1/runs/{run}/history/rows")
    assert answer.status_code == 200, answer.text
    return [(r["_step"], r.get("loss")) for r in answer.json()["rows"]]


def metadata(client: httpx.Client, run: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/runs/{run}")
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["metadata"]
    return result


def offline_fork(root: Path, project: str, run_id: str, fork_from: str, steps: int) -> Path:
    run = wakelog.init(mode="offline", dir=str(root), project=project, id=run_id, fork_from=fork_from)
    for step in range(steps):
        run.log({"loss": 100.0 + step})
    run_dir = Path(run.run_dir)
    run.finish()
    return run_dir


def test_a_synced_offline_fork_starts_with_its_parents_rows_once(
    server: InProcessServer, tmp_path: Path
) -> None:
    """Parent rows up to N, then the fork's own from N+1; its metadata names the parent, the parent
    is unchanged, and the fork's first batch sent again copies nothing twice."""
    parent_dir = record_offline_run(tmp_path, steps=10, project="forks1", id="parent")
    assert upload(server, parent_dir).complete
    child_dir = offline_fork(tmp_path, "forks1", "child", "parent?_step=4", steps=3)
    assert upload(server, child_dir).complete
    with server.client() as client:
        parent_rows = rows(client, "admin/forks1/parent")
        assert [s for s, _ in parent_rows] == list(range(10))
        expected = [*parent_rows[:5], (5, 100.0), (6, 101.0), (7, 102.0)]
        assert rows(client, "admin/forks1/child") == expected
        assert metadata(client, "admin/forks1/child")["forked_from"] == {"run": "parent", "step": 4}
        assert "forked_from" not in metadata(client, "admin/forks1/parent")
        assert rows(client, "admin/forks1/parent") == parent_rows
        first = [[r.seq, r.type, r.time, r.data] for r in records(child_dir)[:3]]
        again = post_records(client, "admin/forks1/child", first)  # the uploader resends after an outage
        assert again.status_code == 200 and again.json()["applied"] == 0
        assert rows(client, "admin/forks1/child") == expected


def test_a_fork_whose_parent_the_server_lacks_keeps_its_own_rows_and_names_the_parent(
    server: InProcessServer, tmp_path: Path
) -> None:
    """An offline fork could not check its parent: synced where the parent is missing, nothing is
    copied and nothing of the fork's own is lost; the metadata names the parent and why."""
    child_dir = offline_fork(tmp_path, "forks2", "orphan", "ghost?_step=2", steps=2)
    assert upload(server, child_dir).complete
    with server.client() as client:
        assert rows(client, "admin/forks2/orphan") == [(3, 100.0), (4, 101.0)]
        note = metadata(client, "admin/forks2/orphan")["forked_from"]
        assert note["run"] == "ghost" and note["step"] == 2 and note["copied"] is False
        assert "ghost" in note["reason"]


def test_a_bad_fork_point_in_a_run_record_is_refused_whole(server: InProcessServer) -> None:
    with server.client() as client:
        for bad in ({"run": "", "step": 1}, {"run": "p", "step": -1}, {"run": "p", "step": 1.5}, "p?_step=1"):
            answer = post_records(client, "admin/forks3/bad", [[0, "run", 1.0, {"fork_from": bad}]])
            assert answer.status_code == 400 and "fork_from" in answer.text
        assert client.get("/api/v1/runs/admin/forks3/bad").status_code == 404
