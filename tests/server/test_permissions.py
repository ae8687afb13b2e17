"""Per-entity roles against a real server: who may read, write and manage what.

A team entity ``acme`` holds one run with history, console, media and a file. ``viewy`` is its
viewer, ``mem`` its member, ``boss`` its admin, and ``stranger`` holds nothing there.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.routing import APIRoute, iter_route_contexts

from tests.harness import InProcessServer
from tests.server.conftest import post_records
from wakelog.cli import main
from wakelog.server.app import create_app
from wakelog.server.config import ServerConfig
from wakelog.server.permissions import entity_admin, entity_viewer, entity_writer

API = "/api/v1"
RUN = "acme/proj/run1"
FILE = b"model weights " + uuid.uuid4().bytes
FILE_SHA = hashlib.sha256(FILE).hexdigest()
#: API routes that name no entity, and why they need no entity role.
ROUTES_WITHOUT_ENTITY = {
    "/api/v1/health",  # anyone
    "/api/v1/openapi.json",  # signed in
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    "/api/v1/auth/me",
    "/api/v1/keys",  # your own keys (admins: anyone's)
    "/api/v1/keys/{prefix}",
    "/api/v1/users",  # server admins
    "/api/v1/users/{username}",
    "/api/v1/users/{username}/password",
    "/api/v1/entities",  # listing: only readable ones; creating: server admins
    "/api/v1/projects",  # listing: only readable entities' projects
    "/api/v1/usage",  # your own usage, and that of entities you administer
    "/api/v1/users/{username}/quota",  # your own (server admins: anyone's)
    "/api/v1/sweeps/validate",  # checks a configuration, touches nothing
    "/api/v1/audit",  # server admins
    "/api/v1/audit/export",
    "/api/v1/notifications",  # your own notifications
    "/api/v1/notifications/unread",
    "/api/v1/notifications/read",
    "/api/v1/notifications/events",
    "/api/v1/notifications/settings",  # where events of your own runs go
    "/api/v1/shared/{token}",  # a report's share link: the token is the key (test_reports.py)
    "/graphql",  # the wandb client's: each operation checks the role under the entity it names
    "/wandb/uploads/{token}",  # signed for one run file and key; the key's member role is checked again
    "/wandb/downloads/{token}",  # signed for one artifact file and key; the viewer role is checked again
}
ROLE_CHECKS = {entity_viewer: "viewer", entity_writer: "member", entity_admin: "admin"}
#: Routes that make their role check in their body, not as a dependency, and the role they check.
ROUTES_CHECKING_THEMSELVES = {
    "/api/v1/runs/{entity}/{project}/{run_id}/records": "member",  # ingest: a live run's every batch
}
#: The sweep, agent, report and view ids made in ``team``, for the routes that name them.
SWEEP: dict[str, str] = {}


@dataclass
class Team:
    server: InProcessServer
    keys: dict[str, str]

    def client(self, who: str, *, loopback: bool = False) -> httpx.Client:
        """``loopback``: over a real socket, for event streams (in memory a response is read whole)."""
        key = self.keys[who] if who != "admin" else self.server.key
        if loopback:
            return httpx.Client(base_url=self.server.url, auth=("api", key), timeout=30)
        return self.server.client(key)


def new_user(admin: httpx.Client, name: str) -> str:
    made = admin.post(f"{API}/users", json={"username": name})
    assert made.status_code == 201, made.text
    return admin.post(f"{API}/keys", json={"user": name}).json()["key"]


def put_blob(client: httpx.Client, run: str, content: bytes) -> httpx.Response:
    sha = hashlib.sha256(content).hexdigest()
    return client.put(
        f"{API}/runs/{run}/blobs/{sha}", params={"offset": 0, "total": len(content)}, content=content
    )


def attach(client: httpx.Client, run: str, name: str, content: bytes) -> httpx.Response:
    entry = {"name": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
    return client.post(f"{API}/runs/{run}/files", json={"files": [entry]})


@pytest.fixture(scope="module")
def team(server: InProcessServer) -> Iterator[Team]:
    with server.client() as admin:
        keys = {name: new_user(admin, name) for name in ("viewy", "mem", "boss", "stranger")}
        assert admin.post(f"{API}/entities", json={"name": "acme"}).status_code == 201
        for name, role in (("viewy", "viewer"), ("mem", "member"), ("boss", "admin")):
            added = admin.put(f"{API}/entities/acme/members/{name}", json={"role": role})
            assert added.status_code == 200, added.text
        records = [
            [0, "run", 1.0, {"name": "first"}],
            [
                1,
                "history",
                2.0,
                {"_step": 0, "loss": 1.0, "sample": {"_type": "image", "path": "media/a.png"}},
            ],
            [2, "output", 3.0, {"stream": "stdout", "text": "hello\n"}],
        ]
        assert post_records(admin, RUN, records).status_code == 200
        assert put_blob(admin, RUN, FILE).json()["complete"] is True
        assert attach(admin, RUN, "model.txt", FILE).status_code == 200
        config = {"method": "grid", "parameters": {"lr": {"values": [0.1, 0.01]}}}
        SWEEP["sweep"] = admin.post(f"{API}/projects/acme/proj/sweeps", json={"config": config}).json()["id"]
        made = admin.post(f"{API}/sweeps/acme/proj/{SWEEP['sweep']}/agents", json={"host": "h", "pid": 1})
        SWEEP["agent"] = made.json()["agent_id"]
        # an artifact "model.txt" (v0, one file of the same name) linked into the registry "models"
        entry = {"digest": "d", "sha256": FILE_SHA, "size": len(FILE)}
        artifact = {
            "name": "model.txt",
            "type": "model",
            "manifest": {"version": 1, "entries": {"model.txt": entry}},
        }
        assert admin.post(f"{API}/projects/acme/proj/artifacts", json=artifact).status_code == 201
        link = {"artifact": "acme/proj/model.txt:v0"}
        assert admin.post(f"{API}/registry/acme/models/links", json=link).status_code == 200
        # a published report, pinned as the dashboard, so that readers' report routes answer
        report = admin.post(f"{API}/projects/acme/proj/reports", json={"title": "Weekly"}).json()
        SWEEP["report_id"] = report["id"]
        for step in ("publish", "pin"):
            assert admin.post(f"{API}/reports/acme/proj/{report['id']}/{step}").status_code == 200
        # a saved view, so that readers' view routes answer
        view = admin.post(f"{API}/projects/acme/proj/views", json={"name": "Main", "state": {"params": {}}})
        SWEEP["view_id"] = view.json()["id"]
    yield Team(server, keys)


# -- reading and writing ---------------------------------------------------------------------------
def test_a_viewer_reads_but_cannot_write(team: Team) -> None:
    with team.client("viewy") as viewy:
        assert viewy.get(f"{API}/runs/{RUN}").json()["name"] == "first"
        assert viewy.get(f"{API}/runs/{RUN}/files/model.txt").content == FILE
        refused = post_records(viewy, "acme/proj/run2", [[0, "run", 1.0, {"name": "mine"}]])
        assert refused.status_code == 403
        detail = refused.json()["detail"]
        assert "'acme'" in detail and "member" in detail, detail
        assert viewy.get(f"{API}/runs/acme/proj/run2").status_code == 404, "nothing was created"
        assert viewy.get(f"{API}/runs/{RUN}/ack").status_code == 403


def test_a_member_writes_and_the_run_names_them(team: Team) -> None:
    with team.client("mem") as mem:
        assert post_records(mem, "acme/proj/by-mem", [[0, "run", 1.0, {"name": "m"}]]).status_code == 200
        assert put_blob(mem, "acme/proj/by-mem", b"members file").json()["complete"] is True
        assert attach(mem, "acme/proj/by-mem", "notes.txt", b"members file").json() == {"attached": 1}
        assert mem.get(f"{API}/runs/acme/proj/by-mem/files/notes.txt").content == b"members file"


def test_listings_show_only_readable_entities(team: Team) -> None:
    with team.client("stranger") as stranger:
        assert [e["name"] for e in stranger.get(f"{API}/entities").json()] == ["stranger"]
        assert stranger.get(f"{API}/projects").json() == []
        assert stranger.get(f"{API}/projects", params={"entity": "acme"}).json() == []
    with team.client("viewy") as viewy:
        assert [e["name"] for e in viewy.get(f"{API}/entities").json()] == ["acme", "viewy"]
        assert {p["entity"] for p in viewy.get(f"{API}/projects").json()} == {"acme"}
    with team.client("admin") as admin:
        names = {e["name"] for e in admin.get(f"{API}/entities").json()}
        assert {"acme", "admin", "viewy", "stranger"} <= names, "server admins see everything"


# -- the route table: no route under an entity goes unchecked ---------------------------------------
def _role_checks(route: APIRoute) -> list[str]:
    found, todo = [], [route.dependant]
    while todo:
        dependant = todo.pop()
        if dependant.call in ROLE_CHECKS:
            found.append(ROLE_CHECKS[dependant.call])
        todo.extend(dependant.dependencies)
    return found


def _api_routes(tmp_path: Path) -> list[tuple[str, str, str]]:
    """(method, path, role needed) of every API route of the app, as FastAPI routes them."""
    app = create_app(ServerConfig(data_dir=tmp_path))
    app.state.db.dispose()
    routes = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        path = context.path or route.path
        checks = _role_checks(route)
        if path in ROUTES_CHECKING_THEMSELVES:
            assert not checks, f"{path} checks its role itself: it needs no role dependency, has {checks}"
            checks = [ROUTES_CHECKING_THEMSELVES[path]]
        if "{entity}" in path:
            assert len(checks) == 1, f"{path} needs one entity role check, has {checks}"
        else:
            assert not checks and path in ROUTES_WITHOUT_ENTITY, (
                f"{path} names no entity: say in ROUTES_WITHOUT_ENTITY why it needs no role"
            )
            continue
        for method in route.methods - {"HEAD"}:
            routes.append((method, path, checks[0]))
    return routes


def _url(path: str, entity: str) -> str:
    values = {
        "entity": entity,
        "project": "proj",
        "run_id": "run1",
        "name": "model.txt",
        "username": "viewy",
        "sha256": FILE_SHA,
        "version": "v0",
        "path": "model.txt",
        "collection": "models",
        "rule_id": "1",
        "thread_id": "1",
        "comment_id": "1",
        **SWEEP,
    }
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: values[m.group(1)], path)


def _status(client: httpx.Client, method: str, url: str) -> tuple[int, str]:
    """Status and detail, without waiting for a stream (events) to end."""
    params: dict[str, str] | None = None
    if url.endswith("/history"):
        params = {"runs": "run1", "keys": "loss"}
    elif url.endswith("/importance"):  # the project's (the sweep's takes none)
        params = {"metric": "loss"}
    body = {} if method in ("POST", "PUT") else None
    with client.stream(method, url, params=params, json=body) as answer:
        if answer.status_code < 400:
            return answer.status_code, ""
        answer.read()
        return answer.status_code, answer.json()["detail"]


def test_every_route_under_an_entity_checks_the_role(team: Team, tmp_path: Path) -> None:
    routes = _api_routes(tmp_path)
    assert len(routes) >= 25
    with team.client("stranger", loopback=True) as stranger, team.client("viewy", loopback=True) as viewy:
        for method, path, role in routes:
            where = f"{method} {path}"
            status, detail = _status(stranger, method, _url(path, "acme"))
            # exactly what a stranger gets for an entity that does not exist
            assert (status, detail.replace("acme", "ghost")) == _status(
                stranger, method, _url(path, "ghost")
            ), where
            if role == "member":  # writes say why, the same for unreadable and missing entities
                assert status == 403 and "does not exist or you are not a member" in detail, where
            else:
                assert status == 404 and detail.endswith("not found"), where
            status, detail = _status(viewy, method, _url(path, "acme"))
            if role == "viewer":
                assert status not in (403, 404), (where, status, detail)
            else:
                assert status == 403 and f"{role} role" in detail and "'acme'" in detail, (where, detail)


def test_a_project_open_to_signed_in_users_is_read_only_on_every_route(team: Team, tmp_path: Path) -> None:
    """With ``acme/proj`` open to signed-in users, ``stranger`` (no role in acme) reads that
    project exactly as its viewer does, route by route, and every route needing more is refused
    (as it is for any stranger); routes of the entity that name no project stay closed."""
    routes = _api_routes(tmp_path)
    with team.client("admin") as admin:
        opened = admin.patch(f"{API}/projects/acme/proj", json={"visibility": "signed_in"})
        assert opened.status_code == 200, opened.text
    try:
        with team.client("stranger", loopback=True) as stranger, team.client("viewy", loopback=True) as viewy:
            for method, path, role in routes:
                where = f"{method} {path}"
                status, detail = _status(stranger, method, _url(path, "acme"))
                if role == "member":
                    assert status == 403 and "does not exist or you are not a member" in detail, where
                elif role == "admin":
                    assert status == 404 and detail.endswith("not found"), where
                elif "{project}" in path:
                    assert status == _status(viewy, method, _url(path, "acme"))[0], (where, status, detail)
                    assert status not in (403, 404), (where, status, detail)
                else:
                    assert status == 404 and detail.endswith("not found"), where
    finally:
        with team.client("admin") as admin:
            assert admin.patch(f"{API}/projects/acme/proj", json={"visibility": "members"}).is_success


# -- members ----------------------------------------------------------------------------------------
def _roles(client: httpx.Client, entity: str = "acme") -> dict[str, str]:
    members = client.get(f"{API}/entities/{entity}/members")
    assert members.status_code == 200, members.text
    return {m["username"]: m["role"] for m in members.json()["members"]}


def test_entity_admins_manage_members_and_keep_one_admin(team: Team) -> None:
    with team.client("admin") as admin:
        assert admin.post(f"{API}/entities", json={"name": "labs"}).status_code == 201
        assert admin.post(f"{API}/entities", json={"name": "labs"}).status_code == 409
        bad = admin.post(f"{API}/entities", json={"name": "no/slash"})
        assert bad.status_code == 400 and "entity" in bad.json()["detail"]
        assert admin.put(f"{API}/entities/labs/members/boss", json={"role": "admin"}).status_code == 200
    with team.client("boss") as boss:
        members = f"{API}/entities/labs/members"
        assert boss.put(f"{members}/mem", json={"role": "viewer"}).json() == {
            "username": "mem",
            "role": "viewer",
        }
        assert boss.put(f"{members}/mem", json={"role": "member"}).status_code == 200  # a role change
        unknown_role = boss.put(f"{members}/mem", json={"role": "owner"})
        assert unknown_role.status_code == 400 and "'owner'" in unknown_role.json()["detail"]
        unknown_user = boss.put(f"{members}/nobody", json={"role": "viewer"})
        assert unknown_user.status_code == 404 and "'nobody'" in unknown_user.json()["detail"]
        assert boss.delete(f"{members}/stranger").status_code == 404  # not a member
        for last_admin in (
            boss.delete(f"{members}/boss"),
            boss.put(f"{members}/boss", json={"role": "member"}),
        ):
            assert last_admin.status_code == 409 and "only admin" in last_admin.json()["detail"]
        assert _roles(boss, "labs") == {"boss": "admin", "mem": "member"}, "nothing half-applied"
        assert boss.put(f"{members}/mem", json={"role": "admin"}).status_code == 200
        assert boss.put(f"{members}/boss", json={"role": "viewer"}).status_code == 200  # now there is another
        assert (
            boss.put(f"{members}/boss", json={"role": "admin"}).status_code == 403
        )  # a viewer manages nothing
        assert boss.post(f"{API}/entities", json={"name": "mine"}).status_code == 403  # server admins only
    with team.client("mem") as mem:
        assert mem.delete(f"{API}/entities/labs/members/boss").status_code == 204
        assert _roles(mem, "labs") == {"mem": "admin"}
    with team.client("stranger") as stranger:
        assert stranger.get(f"{API}/entities/labs/members").status_code == 404


def test_member_changes_from_a_browser_need_the_csrf_token(team: Team) -> None:
    with team.client("admin") as admin:
        password = admin.post(f"{API}/users", json={"username": "browsy"}).json()["password"]
        assert admin.put(f"{API}/entities/acme/members/browsy", json={"role": "admin"}).status_code == 200
    with httpx.Client(base_url=team.server.url) as browser:
        csrf = browser.post(f"{API}/auth/login", json={"username": "browsy", "password": password}).json()
        url = f"{API}/entities/acme/members/stranger"
        assert browser.put(url, json={"role": "viewer"}).status_code == 403
        assert browser.put(
            url, json={"role": "viewer"}, headers={"X-CSRF-Token": csrf["csrf_token"]}
        ).is_success
        assert browser.delete(url, headers={"X-CSRF-Token": csrf["csrf_token"]}).status_code == 204
        me = browser.get(f"{API}/auth/me").json()
        assert {"entity": "acme", "role": "admin"} in me["memberships"]


# -- personal and new entities ----------------------------------------------------------------------
def test_users_write_to_their_personal_entity_but_create_no_others(team: Team) -> None:
    with team.client("stranger") as stranger:
        me = stranger.get(f"{API}/auth/me").json()
        assert me["memberships"] == [{"entity": "stranger", "role": "admin"}]
        assert post_records(stranger, "stranger/p/r", [[0, "run", 1.0, {}]]).status_code == 200
        refused = post_records(stranger, "newteam/p/r", [[0, "run", 1.0, {}]])
        assert refused.status_code == 403
        assert "`wakelog team create newteam`" in refused.json()["detail"]
    with team.client("admin") as admin:
        assert post_records(admin, "newteam/p/r", [[0, "run", 1.0, {}]]).status_code == 200
        assert _roles(admin, "newteam") == {"admin": "admin"}, "the creator administers it"


# -- blobs: knowing a hash gives nothing away -------------------------------------------------------
def test_a_hash_alone_does_not_open_someone_elses_content(team: Team) -> None:
    with team.client("stranger") as stranger:
        assert stranger.get(f"{API}/runs/stranger/p/r/blobs/{FILE_SHA}").json() == {
            "complete": False,
            "received": 0,
        }
        refused = attach(stranger, "stranger/p/r", "stolen.bin", FILE)
        assert refused.status_code == 409 and "not uploaded yet" in refused.json()["detail"]
        wrong = stranger.put(
            f"{API}/runs/stranger/p/r/blobs/{FILE_SHA}",
            params={"offset": 0, "total": len(FILE)},
            content=b"x" * len(FILE),
        )
        assert wrong.status_code == 409 and "sha256" in wrong.json()["detail"]
        assert attach(stranger, "stranger/p/r", "stolen.bin", FILE).status_code == 409
        # holding the content is proof enough: uploading it whole makes it theirs to attach
        half = len(FILE) // 2
        first = stranger.put(
            f"{API}/runs/stranger/p/r/blobs/{FILE_SHA}",
            params={"offset": 0, "total": len(FILE)},
            content=FILE[:half],
        )
        assert first.json() == {"received": half, "complete": False}
        assert stranger.get(f"{API}/runs/stranger/p/r/blobs/{FILE_SHA}").json() == {
            "complete": False,
            "received": half,
        }
        rest = stranger.put(
            f"{API}/runs/stranger/p/r/blobs/{FILE_SHA}",
            params={"offset": half, "total": len(FILE)},
            content=FILE[half:],
        )
        assert rest.json()["complete"] is True
        assert attach(stranger, "stranger/p/r", "mine.bin", FILE).json() == {"attached": 1}
    with team.client("viewy") as viewy:
        assert viewy.get(f"{API}/runs/viewy/p/r/blobs/{FILE_SHA}").json()["received"] == 0, (
            "uploads are staged per user"
        )


# -- the command line -------------------------------------------------------------------------------
def test_cli_manages_teams_on_the_servers_database(team: Team) -> None:
    server = team.server
    data = ["--data-dir", str(server.data_dir), "--backend-store", server.database_url]

    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, [*args, *data])
        assert result.exit_code == 0, result.output
        return result.output

    assert "created entity vision" in cli("team", "create", "vision")
    cli("team", "add", "vision", "viewy")
    cli("team", "add", "vision", "boss", "--role", "admin")
    assert "viewy is viewer of vision" in cli("team", "add", "vision", "viewy", "--role", "viewer")
    listed = cli("team", "list")
    assert re.search(r"^vision\s+boss \(admin\), viewy \(viewer\)$", listed, re.MULTILINE), listed
    with team.client("viewy") as viewy:
        assert {"entity": "vision", "role": "viewer"} in viewy.get(f"{API}/auth/me").json()["memberships"]
    cli("team", "remove", "vision", "viewy")
    with team.client("viewy") as viewy:
        assert viewy.get(f"{API}/entities/vision/members").status_code == 404
    for args, message in (
        (["team", "create", "vision"], "is taken by an existing entity"),
        (["team", "add", "vision", "viewy", "--role", "owner"], "role 'owner' is unknown"),
        (["team", "add", "nowhere", "viewy"], "no entity 'nowhere'"),
        (["team", "add", "vision", "nobody"], "no user 'nobody'"),
        (["team", "remove", "vision", "boss"], "only admin"),
    ):
        failed = CliRunner().invoke(main, [*args, *data])
        assert failed.exit_code == 1 and failed.output.startswith("Error: ") and message in failed.output, (
            args,
            failed.output,
        )
        assert "Traceback" not in failed.output


# -- artifacts: using, linking and lineage across entities -------------------------------------------
def test_artifacts_of_other_entities_are_used_only_by_their_readers(team: Team) -> None:
    used = {"artifact": "acme/proj/model.txt:v0"}
    secret = b"acme's own file " + uuid.uuid4().bytes
    entries = {"w": {"digest": "d", "sha256": hashlib.sha256(secret).hexdigest(), "size": len(secret)}}
    with team.client("admin") as admin:
        assert put_blob(admin, RUN, secret).json()["complete"] is True
        assert attach(admin, RUN, "secret.bin", secret).status_code == 200
    with team.client("stranger") as stranger:
        refused = stranger.post(f"{API}/runs/stranger/p/r/artifacts/used", json=used)
        assert (
            refused.status_code == 404
            and refused.json()["detail"] == "artifact acme/proj/model.txt:v0 not found"
        )
        linked = stranger.post(f"{API}/registry/stranger/mine/links", json=used)
        assert linked.status_code == 404
        stolen = {
            "name": "s",
            "type": "model",
            "manifest": {"version": 1, "entries": entries},
        }
        refused = stranger.post(f"{API}/projects/stranger/p/artifacts", json=stolen)
        assert refused.status_code == 409 and refused.json()["code"] == "artifact_incomplete"
    with team.client("viewy") as viewy:
        assert viewy.post(f"{API}/runs/viewy/p/r/artifacts/used", json=used).status_code == 200
        # viewy can read acme's content: a version of their own may name it without uploading it
        mine = {
            "name": "copy",
            "type": "model",
            "manifest": {"version": 1, "entries": entries},
        }
        assert viewy.post(f"{API}/projects/viewy/p/artifacts", json=mine).status_code == 201
    with team.client("admin") as admin:
        # the graph of acme's artifact shows viewy's run only to those who may read viewy
        graph = admin.get(f"{API}/artifacts/acme/proj/model.txt:v0/lineage").json()
        assert "run:viewy/p/r" in {n["id"] for n in graph["nodes"]}
    with team.client("mem") as mem:
        graph = mem.get(f"{API}/artifacts/acme/proj/model.txt:v0/lineage").json()
        assert {n["id"] for n in graph["nodes"]} == {"artifact:acme/proj/model.txt:v0"}
        assert graph["edges"] == []


# -- notifications: rules need members, team channels admins, the bell is everyone's own -------------
def test_alert_rules_need_members_and_team_channels_need_admins(team: Team) -> None:
    rules, channels = (
        f"{API}/projects/acme/proj/alert-rules",
        f"{API}/projects/acme/proj/notification-settings",
    )
    rule = {"key": "loss", "op": ">", "value": 10}
    hook = {"targets": [{"channel": "webhook", "url": "http://127.0.0.1:9/hook", "format": "feishu"}]}
    with team.client("viewy") as viewy:
        assert viewy.post(rules, json=rule).status_code == 403
        assert viewy.put(f"{API}/projects/acme/proj/subscription", json={"targets": []}).status_code == 200
    with team.client("mem") as mem:
        made = mem.post(rules, json=rule)
        assert made.status_code == 201, made.text
        assert mem.put(channels, json=hook).status_code == 403
        assert mem.delete(f"{rules}/{made.json()['id']}").status_code == 204
    with team.client("boss") as boss:
        assert boss.put(channels, json=hook).status_code == 200
        assert boss.get(channels).json()["targets"][0]["format"] == "feishu"
    with team.client("stranger") as stranger:
        assert stranger.get(f"{API}/notifications").json() == {"notifications": [], "unread": 0}
        assert stranger.get(channels).status_code == 404
