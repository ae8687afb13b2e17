"""Projects managed by people: settings, renames, visibility, the trash, the overview."""

from __future__ import annotations

import uuid

import httpx

from tests.harness import InProcessServer
from tests.server.conftest import post_records, query

API = "/api/v1"


def _user(admin: httpx.Client, name: str) -> str:
    admin.post(f"{API}/users", json={"username": name})
    return admin.post(f"{API}/keys", json={"user": name}).json()["key"]


def _runs(client: httpx.Client, project: str, accs: dict[str, float | None]) -> None:
    for i, (run_id, acc) in enumerate(accs.items()):
        data = {"_step": 0, "loss": 1.0} if acc is None else {"_step": 0, "acc": acc}
        records = [[0, "run", 1.0 + i, {"name": run_id, "start_time": 1000.0 + i}], [1, "history", 2.0, data]]
        records.append([2, "exit", 3.0, {"exit_code": 0}])
        assert post_records(client, f"{project}/{run_id}", records).is_success


def test_members_describe_and_pin_admins_rename_and_open(server: InProcessServer) -> None:
    team = f"t{uuid.uuid4().hex[:6]}"
    with server.client() as admin:
        assert admin.post(f"{API}/entities", json={"name": team}).status_code == 201
        keys = {name: _user(admin, f"{name}-{team}") for name in ("mem", "outsider")}
        assert admin.put(f"{API}/entities/{team}/members/mem-{team}", json={"role": "member"}).is_success
        _runs(admin, f"{team}/p", {"a": 0.5, "b": 0.9})
    with server.client(keys["mem"]) as mem:
        edited = mem.patch(
            f"{API}/projects/{team}/p", json={"description": "# detection", "pinned_runs": ["b", "b", "a"]}
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["description"] == "# detection" and edited.json()["pinned_runs"] == ["b", "a"]
        for admin_only in ({"name": "q"}, {"visibility": "signed_in"}):
            refused = mem.patch(f"{API}/projects/{team}/p", json=admin_only)
            assert refused.status_code == 403 and "admin role" in refused.json()["detail"], admin_only
        assert mem.patch(f"{API}/projects/{team}/p", json={"visibility": "world"}).status_code == 422
    with server.client(keys["outsider"]) as outsider:
        assert outsider.get(f"{API}/projects/{team}/p").status_code == 404
        assert outsider.get(f"{API}/projects").json() == []
    with server.client() as admin:
        assert (
            admin.patch(f"{API}/projects/{team}/p", json={"visibility": "signed_in"}).json()["visibility"]
            == "signed_in"
        )
        _runs(admin, f"{team}/other", {"x": 1.0})
        clash = admin.patch(f"{API}/projects/{team}/p", json={"name": "other"})
        assert clash.status_code == 409 and clash.json()["code"] == "conflict"
        assert admin.patch(f"{API}/projects/{team}/p", json={"name": "bad/name"}).status_code == 400
        renamed = admin.patch(f"{API}/projects/{team}/p", json={"name": "det"})
        assert renamed.json()["name"] == "det" and renamed.json()["runs"] == 2
        assert admin.get(f"{API}/runs/{team}/det/b").json()["name"] == "b"
        assert admin.get(f"{API}/projects/{team}/p").status_code == 404
        edits = admin.get(f"{API}/entities/{team}/audit", params={"action": "project.edit"}).json()["entries"]
        assert [(e["actor"], e["before"], e["after"]) for e in edits[:2]] == [
            ("admin", {"name": "p"}, {"name": "det"}),
            ("admin", {"visibility": "members"}, {"visibility": "signed_in"}),
        ]
    with server.client(keys["outsider"]) as outsider:
        # open to every signed-in user, read-only
        assert outsider.get(f"{API}/projects/{team}/det/runs").json()["total"] == 2
        assert [p["name"] for p in outsider.get(f"{API}/projects").json()] == ["det"]
        assert outsider.get(f"{API}/projects/{team}/other").status_code == 404, "only that project"
        assert outsider.patch(f"{API}/runs/{team}/det/a", json={"name": "mine"}).status_code == 403
        assert post_records(outsider, f"{team}/det/new", [[0, "run", 1.0, {}]]).status_code == 403


def test_a_deleted_project_hides_its_runs_until_restored(server: InProcessServer) -> None:
    with server.client() as admin:
        project = f"admin/p{uuid.uuid4().hex[:6]}"
        _runs(admin, project, {"a": 0.1})
        assert admin.delete(f"{API}/projects/{project}").status_code == 204
        assert admin.get(f"{API}/projects/{project}").status_code == 404
        assert admin.get(f"{API}/runs/{project}/a").status_code == 404
        assert project.split("/")[1] not in [p["name"] for p in admin.get(f"{API}/projects").json()]
        trash = admin.get(f"{API}/entities/admin/trash").json()
        assert project.split("/")[1] in [t["name"] for t in trash]
        refused = post_records(admin, f"{project}/b", [[0, "run", 1.0, {}]])
        assert refused.status_code == 409 and refused.json()["code"] == "in_trash"
        assert admin.delete(f"{API}/projects/{project}").status_code == 404
        assert admin.post(f"{API}/projects/{project}/restore").status_code == 204
        trail = admin.get(f"{API}/entities/admin/audit", params={"limit": 2}).json()["entries"]
        assert [(e["action"], e["target"]) for e in trail] == [
            ("project.restore", project),
            ("project.delete", project),
        ]
        assert admin.get(f"{API}/runs/{project}/a").json()["name"] == "a"
        assert admin.get(f"{API}/runs/{project}/b").status_code == 404, "nothing of the refused batch"


def test_the_overview_has_pinned_latest_and_best_runs(server: InProcessServer) -> None:
    with server.client() as admin:
        project = f"admin/p{uuid.uuid4().hex[:6]}"
        _runs(admin, project, {"low": 0.2, "high": 0.9, "none": None, "mid": 0.5})
        admin.patch(f"{API}/projects/{project}", json={"description": "d", "pinned_runs": ["mid", "gone"]})
        view = admin.get(f"{API}/projects/{project}/overview", params={"metric": "acc", "latest": 2}).json()
        assert view["description"] == "d" and [r["id"] for r in view["pinned"]] == ["mid"]
        assert [r["id"] for r in view["latest"]] == ["mid", "none"]
        assert view["best"]["id"] == "high"
        lowest = admin.get(
            f"{API}/projects/{project}/overview", params={"metric": "acc", "goal": "min"}
        ).json()
        assert lowest["best"]["id"] == "low"
        assert (
            admin.get(f"{API}/projects/{project}/overview", params={"metric": "nothing"}).json()["best"]
            is None
        )
        assert admin.get(f"{API}/projects/{project}/overview").json()["best"] is None


def test_the_project_list_counts_live_runs_and_their_last_activity_as_they_come_and_go(
    server: InProcessServer,
) -> None:
    # The list asks each project for its figures through an index; what it says must stay what a
    # grouping over every live run says, after runs are created, trashed, restored and moved.
    team = f"t{uuid.uuid4().hex[:6]}"
    with server.client() as admin:
        assert admin.post(f"{API}/entities", json={"name": team}).status_code == 201
        _runs(admin, f"{team}/one", {"a": 0.1, "b": 0.2, "c": 0.3})
        _runs(admin, f"{team}/two", {"d": 0.4})

        def listed() -> dict[str, tuple[int, float]]:
            answer = admin.get(f"{API}/entities/{team}/projects")
            assert answer.status_code == 200, answer.text
            return {p["name"]: (p["runs"], p["updated_at"]) for p in answer.json()}

        def grouped() -> dict[str, tuple[int, float]]:
            rows = query(
                server,
                "SELECT p.name, count(r.id), coalesce(max(r.updated_at), p.updated_at) FROM projects p"
                " JOIN entities e ON e.id = p.entity_id"
                " LEFT JOIN runs r ON r.project_id = p.id AND r.deleted_at IS NULL"
                " WHERE e.name = :team AND p.deleted_at IS NULL GROUP BY p.id, p.name, p.updated_at",
                team=team,
            )
            return {name: (n, active) for name, n, active in rows}

        assert listed() == grouped() and {k: v[0] for k, v in listed().items()} == {"one": 3, "two": 1}
        assert admin.delete(f"{API}/runs/{team}/one/b").status_code == 204
        assert listed() == grouped() and listed()["one"][0] == 2
        bulk = {"action": "move", "runs": ["c"], "to": f"{team}/two"}
        assert admin.post(f"{API}/projects/{team}/one/runs/bulk", json=bulk).json()["changed"] == ["c"]
        assert listed() == grouped() and (listed()["one"][0], listed()["two"][0]) == (1, 2)
        assert admin.post(f"{API}/runs/{team}/one/b/restore").status_code == 204
        assert admin.delete(f"{API}/runs/{team}/two/d").status_code == 204
        assert listed() == grouped() and (listed()["one"][0], listed()["two"][0]) == (2, 1)
        everyone = {
            p["name"]: p["runs"] for p in admin.get(f"{API}/projects", params={"entity": team}).json()
        }
        assert everyone == {"one": 2, "two": 1}
