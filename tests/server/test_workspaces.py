"""Each user's chart layout of a project, kept on the server (it follows them between browsers)."""

from __future__ import annotations

import httpx

from tests.harness import InProcessServer
from tests.server.conftest import post_records

API = "/api/v1"
LAYOUT = {"removed": ["train/lr"], "added": ["system/cpu_percent"], "sizes": {"train/loss": "l"}}


def test_layouts_are_per_user_and_per_project(server: InProcessServer) -> None:
    with server.client() as admin:
        post_records(admin, "admin/layouts/r1", [[0, "run", 1.0, {"name": "r1"}]])
        url = f"{API}/projects/admin/layouts/workspace"
        assert admin.get(url).json() == {"layout": None, "updated_at": None}
        saved = admin.put(url, json=LAYOUT)
        assert saved.status_code == 200 and saved.json()["layout"] == LAYOUT
        assert admin.get(url).json()["layout"] == LAYOUT
        admin.post(f"{API}/users", json={"username": "carol", "password": "carols-password"})
        other_key = admin.post(f"{API}/keys", json={"user": "carol"}).json()["key"]
        viewer = admin.put(f"{API}/entities/admin/members/carol", json={"role": "viewer"})
        assert viewer.status_code == 200, viewer.text
    with httpx.Client(base_url=server.url, auth=("api", other_key)) as carol:
        assert carol.get(url).json()["layout"] is None, "another user's layout is their own"
        # a layout is the user's own view: reading the project is enough to keep one
        assert carol.put(url, json={"removed": ["loss"]}).status_code == 200
    with server.client() as admin:
        assert admin.get(url).json()["layout"] == LAYOUT


def test_bad_layouts_are_refused(server: InProcessServer) -> None:
    with server.client() as admin:
        post_records(admin, "admin/layouts2/r1", [[0, "run", 1.0, {"name": "r1"}]])
        url = f"{API}/projects/admin/layouts2/workspace"
        assert admin.put(url, content=b"[1, 2]").status_code == 400
        assert admin.put(url, content=b"{not json").status_code == 400
        assert admin.put(url, content=b'{"a": "' + b"x" * 70_000 + b'"}').status_code == 413
        assert admin.put(f"{API}/projects/admin/nowhere/workspace", json=LAYOUT).status_code == 404
        assert admin.get(url).json()["layout"] is None, "nothing of a refused layout was kept"


#: A layout of the panel system: two sections and report-kind panels, with the older fields beside.
PANELS_LAYOUT = {
    **LAYOUT,
    "sections": [{"id": "s-eval", "name": "Eval", "collapsed": True}],
    "panels": [
        {"id": "p-acc", "kind": "scalar", "title": "", "config": {"metric": "eval/acc", "summary": "max"}},
        {
            "id": "p-bar",
            "kind": "bar",
            "title": "Acc",
            "config": {"metric": "eval/acc"},
            "section": "s-eval",
            "size": "l",
        },
        {"id": "p-line", "kind": "line", "title": "", "config": {"metrics": ["train/*"], "x": "epoch"}},
    ],
}


def test_panel_layouts_are_checked_and_kept(server: InProcessServer) -> None:
    with server.client() as admin:
        post_records(admin, "admin/panels/r1", [[0, "run", 1.0, {"name": "r1"}]])
        url = f"{API}/projects/admin/panels/workspace"
        saved = admin.put(url, json={**PANELS_LAYOUT, "options": {"p-line": {"smoothing": 0.6}}})
        assert saved.status_code == 200, saved.text
        layout = admin.get(url).json()["layout"]
        assert layout["removed"] == LAYOUT["removed"] and layout["options"] == {"p-line": {"smoothing": 0.6}}
        assert layout["sections"] == PANELS_LAYOUT["sections"]
        # defaults filled in: a panel without a section is in the default one, at the middle size
        assert [(p["id"], p["section"], p["size"]) for p in layout["panels"]] == [
            ("p-acc", None, "m"),
            ("p-bar", "s-eval", "l"),
            ("p-line", None, "m"),
        ]
        assert admin.put(url, json=LAYOUT).json()["layout"] == LAYOUT, "an old layout is stored unchanged"


def test_bad_panel_layouts_are_refused_naming_the_field(server: InProcessServer) -> None:
    panel = {"id": "p1", "kind": "scalar", "title": "", "config": {"metric": "acc"}}
    section = {"id": "s1", "name": "Mine"}
    bad = [
        ({"panels": {}}, "panels must be a list"),
        ({"panels": [{**panel, "kind": "pie"}]}, "unknown panel kind 'pie'"),
        ({"panels": [{**panel, "config": {}}]}, "needs 'metric'"),
        ({"panels": [{**panel, "config": {"metric": "acc", "summary": "best"}}]}, "summary"),
        ({"panels": [{**panel, "size": "xl"}]}, "panels[0] size"),
        ({"panels": [{**panel, "section": "nowhere"}]}, "panels[0] section 'nowhere'"),
        ({"panels": [panel, panel]}, "already used"),
        ({"panels": [{**panel, "colour": "red"}]}, "unknown field 'colour'"),
        ({"panels": [{**panel, "id": "a b"}]}, "id 'a b'"),
        ({"panels": [panel] * 201}, "over the 200 allowed"),
        ({"sections": [{**section, "name": " "}]}, "sections[0] name"),
        ({"sections": [{**section, "collapsed": "yes"}]}, "sections[0] collapsed"),
        ({"sections": [section, section]}, "already used"),
        ({"sections": [section], "panels": [{**panel, "id": "s1"}]}, "already used"),
        ({"sections": ["Mine"]}, "sections[0] must be an object"),
        ({"panels": [{**panel, "kind": "histogram", "config": {}}]}, "needs 'key'"),
        ({"panels": [{**panel, "kind": "histogram", "config": {"key": ""}}]}, "key: must not be empty"),
        ({"panels": [{**panel, "kind": "histogram", "config": {"key": "w", "max_runs": 0}}]}, "max_runs"),
        ({"panels": [{**panel, "kind": "line", "config": {"metrics": ["a"], "max_runs": 1.5}}]}, "max_runs"),
        ({"panels": [{**panel, "kind": "line", "config": {"metrics": ["a"], "max_runs": True}}]}, "max_runs"),
        ({"panels": [{**panel, "kind": "line", "config": {"metrics": ["a"], "max_runs": 101}}]}, "max_runs"),
    ]
    with server.client() as admin:
        post_records(admin, "admin/panels2/r1", [[0, "run", 1.0, {"name": "r1"}]])
        url = f"{API}/projects/admin/panels2/workspace"
        for layout, problem in bad:
            answer = admin.put(url, json={**LAYOUT, **layout})
            assert answer.status_code == 422, (layout, answer.text)
            assert problem in answer.json()["detail"], (problem, answer.json())
        assert admin.get(url).json()["layout"] is None, "nothing of a refused layout was kept"


def test_histogram_panels_and_a_panels_own_max_runs_are_kept(server: InProcessServer) -> None:
    """The histogram-over-time kind (a logged ``wandb.Histogram`` key) and ``max_runs`` of line
    and histogram panels (null: the workspace's) are panel settings the server keeps."""
    panels = [
        {"id": "p-h", "kind": "histogram", "title": "", "config": {"key": "grads/w", "max_runs": 4}},
        {"id": "p-h2", "kind": "histogram", "title": "", "config": {"key": "grads/b", "max_runs": None}},
        {"id": "p-l", "kind": "line", "title": "", "config": {"metrics": ["loss"], "max_runs": 100}},
    ]
    with server.client() as admin:
        post_records(admin, "admin/hist/r1", [[0, "run", 1.0, {"name": "r1"}]])
        url = f"{API}/projects/admin/hist/workspace"
        saved = admin.put(url, json={"panels": panels})
        assert saved.status_code == 200, saved.text
        kept = admin.get(url).json()["layout"]["panels"]
        assert [(p["kind"], p["config"]) for p in kept] == [(p["kind"], p["config"]) for p in panels]
