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
