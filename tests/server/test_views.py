"""Saved views against the real app on SQLite and PostgreSQL: saving, listing, opening, renaming,
replacing the state, one default per project, deleting, who may do which, the audit trail, and bad
states refused whole (422 naming the field)."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import InProcessServer
from tests.server.conftest import Team as BaseTeam
from tests.server.conftest import add_team, post_records
from wakelog.server.saved_views.state import MAX_STATE_BYTES, PARAMS

API = "/api/v1"
STATE = {
    "params": {
        "filter": "state = finished",
        "order": "-summary.loss",
        "smooth": "0.6",
        "view": "charts",
        "smoothk": "ema",
        "maxruns": "10",
    },
    "layout": {"removed": ["lr"], "added": [], "sizes": {"loss": "l"}},
}


class Team(BaseTeam):
    @property
    def views(self) -> str:
        return f"{API}/projects/{self.entity}/proj/views"


@pytest.fixture
def team(server: InProcessServer) -> Iterator[Team]:
    """A fresh team entity with two members, a viewer and an admin, and a project with a run."""
    entity = f"v{uuid.uuid4().hex[:8]}"
    roles = {"writer": "member", "other": "member", "reader": "viewer", "boss": "admin"}
    with server.client() as admin:
        keys = add_team(admin, entity, roles)
        assert post_records(admin, f"{entity}/proj/r1", [[0, "run", 1.0, {"name": "one"}]]).status_code == 200
    yield Team(server, entity, keys)


def save(client: httpx.Client, team: Team, name: str, **extra: Any) -> dict[str, Any]:
    made = client.post(team.views, json={"name": name, "state": STATE, **extra})
    assert made.status_code == 201, made.text
    return made.json()


def audit_actions(team: Team) -> list[str]:
    with team.client("admin") as admin:
        entries = admin.get(f"{API}/audit", params={"entity": team.entity, "limit": 1000}).json()["entries"]
    return [entry["action"] for entry in entries if entry["action"].startswith("view.")]


def test_a_saved_view_is_listed_opened_renamed_replaced_and_deleted(team: Team) -> None:
    with team.client("writer") as writer:
        made = save(writer, team, "  Loss curves ")
        assert (made["name"], made["state"], made["is_default"]) == ("Loss curves", STATE, False)
        assert made["created_by"] == f"writer-{team.entity}" and len(made["id"]) == 10
        url = f"{team.views}/{made['id']}"
        with team.client("reader") as reader:
            assert reader.get(url).json()["state"] == STATE
            listed = reader.get(team.views).json()
            assert [(v["id"], v["name"]) for v in listed] == [(made["id"], "Loss curves")]
            assert "state" not in listed[0]
        renamed = writer.patch(url, json={"name": "Losses"})
        assert renamed.status_code == 200 and renamed.json()["name"] == "Losses", renamed.text
        assert renamed.json()["state"] == STATE
        state = {"params": {"group": "config.lr", "agg": "median", "band": "std"}, "layout": None}
        replaced = writer.patch(url, json={"state": state}).json()
        assert (replaced["name"], replaced["state"]) == ("Losses", state)
        assert replaced["updated_at"] >= made["updated_at"]
        assert writer.delete(url).status_code == 204
        assert writer.get(url).status_code == 404
        assert writer.get(team.views).json() == []
    assert audit_actions(team) == ["view.delete", "view.update", "view.update", "view.create"]


def test_names_are_unique_per_project(team: Team) -> None:
    with team.client("writer") as writer:
        first = save(writer, team, "Mine")
        second = save(writer, team, "Other")
        taken = writer.post(team.views, json={"name": "Mine", "state": STATE})
        assert taken.status_code == 409 and "'Mine'" in taken.json()["detail"]
        clash = writer.patch(f"{team.views}/{second['id']}", json={"name": "Mine", "is_default": True})
        assert clash.status_code == 409
        shown = writer.get(f"{team.views}/{second['id']}").json()
        assert (shown["name"], shown["is_default"]) == ("Other", False), "nothing half-applied"
        assert writer.patch(f"{team.views}/{first['id']}", json={"name": "Mine"}).status_code == 200
        with team.client("admin") as admin:
            # another project may use the same name
            assert post_records(admin, f"{team.entity}/p2/r", [[0, "run", 1.0, {}]]).status_code == 200
            elsewhere = admin.post(
                f"{API}/projects/{team.entity}/p2/views", json={"name": "Mine", "state": STATE}
            )
            assert elsewhere.status_code == 201, elsewhere.text


def test_one_default_per_project(team: Team) -> None:
    with team.client("writer") as writer:
        first = save(writer, team, "First", is_default=True)
        assert first["is_default"] is True
        second = save(writer, team, "Second")
        made = writer.patch(f"{team.views}/{second['id']}", json={"is_default": True}).json()
        assert made["is_default"] is True
        defaults = [v["name"] for v in writer.get(team.views).json() if v["is_default"]]
        assert defaults == ["Second"], "setting one default unsets the other"
        cleared = writer.patch(f"{team.views}/{second['id']}", json={"is_default": False}).json()
        assert cleared["is_default"] is False
        assert not any(v["is_default"] for v in writer.get(team.views).json())
    assert audit_actions(team).count("view.default") == 3


def test_members_change_their_own_views_and_admins_anyones(team: Team) -> None:
    with team.client("writer") as writer:
        mine = save(writer, team, "Writer's")
    url = f"{team.views}/{mine['id']}"
    with team.client("reader") as reader:
        refused = reader.post(team.views, json={"name": "Reader's", "state": STATE})
        assert refused.status_code == 403 and "member role" in refused.json()["detail"]
        assert reader.patch(url, json={"is_default": True}).status_code == 403
    with team.client("other") as other:
        for answer in (other.patch(url, json={"name": "Taken over"}), other.delete(url)):
            assert answer.status_code == 403 and "author or an admin" in answer.json()["detail"]
        refused = other.patch(url, json={"state": STATE, "is_default": True})
        assert refused.status_code == 403
        assert other.get(url).json()["is_default"] is False, "nothing half-applied"
        # the project's default is every member's to choose, as the pinned dashboard is
        assert other.patch(url, json={"is_default": True}).json()["is_default"] is True
    with team.client("boss") as boss:
        assert boss.patch(url, json={"name": "Boss renamed"}).json()["name"] == "Boss renamed"
        assert boss.delete(url).status_code == 204


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"name": "x"}, "state"),
        ({"state": STATE}, "name"),
        ({"name": "", "state": STATE}, "name"),
        ({"name": "a" * 101, "state": STATE}, "name"),
        ({"name": "tab\there", "state": STATE}, "name"),
        ({"name": 3, "state": STATE}, "name"),
        ({"name": "x", "state": STATE, "owner": "me"}, "owner"),
        ({"name": "x", "state": STATE, "is_default": "yes"}, "is_default"),
        ({"name": "x", "state": []}, "state"),
        ({"name": "x", "state": {"params": {}, "panels": []}}, "state.panels"),
        ({"name": "x", "state": {"params": []}}, "state.params"),
        ({"name": "x", "state": {"params": {"colour": "red"}}}, "state.params.colour"),
        ({"name": "x", "state": {"params": {"filter": 3}}}, "state.params.filter"),
        ({"name": "x", "state": {"params": {"view": "grid"}}}, "state.params.view"),
        ({"name": "x", "state": {"params": {"smooth": "101"}}}, "state.params.smooth"),
        ({"name": "x", "state": {"params": {"smooth": "nan"}}}, "state.params.smooth"),
        ({"name": "x", "state": {"params": {"smoothk": "median"}}}, "state.params.smoothk"),
        ({"name": "x", "state": {"params": {"maxruns": "0"}}}, "state.params.maxruns"),
        ({"name": "x", "state": {"params": {"ymin": "inf"}}}, "state.params.ymin"),
        ({"name": "x", "state": {"params": {"legend": "yes"}}}, "state.params.legend"),
        ({"name": "x", "state": {"params": {"agg": "max"}}}, "state.params.agg"),
        ({"name": "x", "state": {"params": {"band": "iqr"}}}, "state.params.band"),
        ({"name": "x", "state": {"params": {"xr": "5,1"}}}, "state.params.xr"),
        ({"name": "x", "state": {"params": {"xr": "1,2,3"}}}, "state.params.xr"),
        ({"name": "x", "state": {"layout": "big"}}, "state.layout"),
        ({"name": "x", "state": {"layout": {"pad": "x" * MAX_STATE_BYTES}}}, "state is"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(team: Team, body: dict[str, Any], named: str) -> None:
    with team.client("writer") as writer:
        kept = save(writer, team, f"kept-{uuid.uuid4().hex[:6]}")
        refused = writer.post(team.views, json=body)
        assert refused.status_code == 422, refused.text
        assert named in refused.json()["detail"] and refused.json()["code"] == "validation_failed"
        if named not in ("state", "name"):  # a patch needs neither; a good rename beside a bad field
            changed = writer.patch(f"{team.views}/{kept['id']}", json={**body, "name": "renamed"})
            assert changed.status_code == 422, changed.text
        assert writer.get(f"{team.views}/{kept['id']}").json()["name"] == kept["name"], "nothing applied"
        assert [v["id"] for v in writer.get(team.views).json()] == [kept["id"]]


def test_unknown_views_and_projects_are_not_found(team: Team) -> None:
    with team.client("writer") as writer:
        assert writer.get(f"{team.views}/nosuchview").status_code == 404
        assert writer.patch(f"{team.views}/nosuchview", json={"name": "x"}).status_code == 404
        bad = writer.get(f"{team.views}/Not-An-Id")
        assert bad.status_code == 400 and "view id" in bad.json()["detail"]
        missing = writer.get(f"{API}/projects/{team.entity}/nowhere/views")
        assert missing.status_code == 404 and "nowhere" in missing.json()["detail"]


def test_the_server_takes_every_parameter_the_web_app_saves() -> None:
    """The web app's list of saved parameters and the server's checks name the same ones: a
    parameter added to one alone would make saving a view fail (or keep one the app never reads)."""
    source = (Path(__file__).parents[2] / "web/src/pages/workspace/savedViews.ts").read_text()
    listed = re.search(r"WORKSPACE_PARAMS = \[(.*?)\] as const", source, re.S)
    assert listed is not None
    names = set(re.findall(r'"([a-z]+)"', listed.group(1))) | {"hidden"}  # HIDDEN_PARAM
    assert names == set(PARAMS)


def test_the_same_name_saved_at_the_same_instant_is_taken_once(team: Team) -> None:
    """Concurrent saves of one name: one view, the others a 409 naming it, never a 500."""
    barrier = threading.Barrier(6)

    def save_once(_: int) -> httpx.Response:
        with team.client("writer") as client:
            barrier.wait(timeout=30)
            return client.post(team.views, json={"name": "same", "state": STATE})

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(save_once, range(6)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5, [a.text for a in answers]
    assert all("'same'" in a.json()["detail"] for a in answers if a.status_code == 409)
    with team.client("reader") as client:
        assert [v["name"] for v in client.get(team.views).json()] == ["same"]
