"""The audit trail: who changed what and when, before → after; admins read it, nobody rewrites it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from fastapi.routing import APIRoute, iter_route_contexts

from tests.harness import InProcessServer
from tests.server.conftest import post_records
from wakelog.server.app import create_app
from wakelog.server.config import ServerConfig

API = "/api/v1"


def _entries(client, url: str, **params) -> list[dict]:  # type: ignore[no-untyped-def]
    answer = client.get(url, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["entries"]


def test_console_changes_are_recorded_as_the_login_that_made_them(server: InProcessServer) -> None:
    """Users, keys, teams and members changed with the ``wakelog`` command on the server's machine
    leave entries too: there is no signed-in actor, so they name the operating-system login."""
    import getpass

    from tests.server.test_auth import run_cli

    team = f"t{uuid.uuid4().hex[:6]}"
    data = ["--data-dir", str(server.data_dir), "--backend-store", server.database_url]
    run_cli("user", "add", f"u-{team}", *data)
    run_cli("user", "passwd", f"u-{team}", "--password-stdin", *data, input="a-long-new-password\n")
    key = run_cli("key", "create", "--user", f"u-{team}", "--name", "ci", *data).strip()
    run_cli("key", "revoke", key[:11], *data)
    run_cli("team", "create", team, *data)
    run_cli("team", "add", team, f"u-{team}", "--role", "viewer", *data)
    run_cli("team", "remove", team, f"u-{team}", *data)
    run_cli("user", "delete", f"u-{team}", "--yes", *data)
    with server.client() as admin:
        entries = [e for e in reversed(_entries(admin, f"{API}/audit", limit=100)) if team in json.dumps(e)]
    console = f"console:{getpass.getuser()}"
    assert [(e["actor"], e["action"]) for e in entries] == [
        (console, action)
        for action in (
            "user.create",
            "user.password",
            "key.create",
            "key.revoke",
            "entity.create",
            "member.set",
            "member.remove",
            "user.delete",
        )
    ]
    assert "a-long-new-password" not in json.dumps(entries), "a password never reaches the log"


def test_changes_are_recorded_with_who_what_and_before_after(server: InProcessServer) -> None:
    team = f"t{uuid.uuid4().hex[:6]}"
    with server.client() as admin:
        assert admin.post(f"{API}/entities", json={"name": team}).status_code == 201
        for name in ("lead", "dev"):
            admin.post(f"{API}/users", json={"username": f"{name}-{team}"})
        lead_key = admin.post(f"{API}/keys", json={"user": f"lead-{team}", "name": "ci"}).json()
        assert admin.put(f"{API}/entities/{team}/members/lead-{team}", json={"role": "admin"}).is_success
    with server.client(lead_key["key"]) as lead:
        assert lead.put(f"{API}/entities/{team}/members/dev-{team}", json={"role": "viewer"}).is_success
        assert lead.put(f"{API}/entities/{team}/members/dev-{team}", json={"role": "member"}).is_success
        records = [[0, "run", 1.0, {"name": "r"}], [1, "exit", 2.0, {"exit_code": 0}]]
        assert post_records(lead, f"{team}/p/r1", records).is_success
        assert lead.patch(f"{API}/runs/{team}/p/r1", json={"name": "better", "tags": ["a"]}).is_success
        assert lead.delete(f"{API}/runs/{team}/p/r1").status_code == 204
        assert lead.post(f"{API}/runs/{team}/p/r1/restore").status_code == 204
        moved = lead.post(
            f"{API}/projects/{team}/p/runs/bulk", json={"action": "move", "runs": ["r1"], "to": f"{team}/q"}
        )
        assert moved.is_success, moved.text
        assert lead.delete(f"{API}/entities/{team}/members/dev-{team}").status_code == 204
        entries = _entries(lead, f"{API}/entities/{team}/audit")
        got = [(e["actor"], e["action"], e["target"], e["before"], e["after"]) for e in reversed(entries)]
        assert got == [
            ("admin", "entity.create", team, None, None),
            ("admin", "member.set", f"lead-{team}", {"role": None}, {"role": "admin"}),
            (f"lead-{team}", "member.set", f"dev-{team}", {"role": None}, {"role": "viewer"}),
            (f"lead-{team}", "member.set", f"dev-{team}", {"role": "viewer"}, {"role": "member"}),
            (
                f"lead-{team}",
                "run.edit",
                f"{team}/p/r1",
                {"name": "r", "tags": []},
                {"name": "better", "tags": ["a"]},
            ),
            (
                f"lead-{team}",
                "run.delete",
                f"{team}/p/r1",
                {"deleted_at": None},
                {"deleted_at": entries[-6]["after"]["deleted_at"]},
            ),
            (
                f"lead-{team}",
                "run.restore",
                f"{team}/p/r1",
                {"deleted_at": entries[-6]["after"]["deleted_at"]},
                {"deleted_at": None},
            ),
            (f"lead-{team}", "run.move", f"{team}/p/r1", {"project": f"{team}/p"}, {"project": f"{team}/q"}),
            (f"lead-{team}", "member.remove", f"dev-{team}", {"role": "member"}, None),
        ]
        assert all(e["entity"] == team and e["time"] > 0 for e in entries)
        assert lead.get(f"{API}/audit").status_code == 403, "the server's whole log is for server admins"
        revoked = lead.delete(f"{API}/keys/{lead_key['prefix']}")
        assert revoked.status_code == 204
    with server.client() as admin:
        keys = _entries(admin, f"{API}/audit", action="key.create")
        assert keys[0]["target"] == lead_key["prefix"] and keys[0]["after"] == {
            "user": f"lead-{team}",
            "name": "ci",
        }
        revoke = _entries(admin, f"{API}/audit", action="key.revoke")[0]
        assert (revoke["actor"], revoke["target"]) == (f"lead-{team}", lead_key["prefix"])


def test_pages_and_the_jsonl_export_hold_every_entry(server: InProcessServer) -> None:
    with server.client() as admin:
        for i in range(5):
            admin.post(f"{API}/keys", json={"name": f"k{i}"})
        seen, before = [], None
        while True:
            params = {"limit": 2, "action": "key.create", **({"before": before} if before else {})}
            page = admin.get(f"{API}/audit", params=params).json()
            seen += [e["id"] for e in page["entries"]]
            before = page["next_before"]
            if before is None:
                break
        assert len(seen) >= 5 and seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)
        export = admin.get(f"{API}/audit/export", params={"action": "key.create"})
        assert export.status_code == 200 and "jsonl" in export.headers["content-disposition"]
        assert [json.loads(line)["id"] for line in export.text.splitlines()] == seen


def test_the_log_is_append_only_through_the_api(server: InProcessServer, tmp_path: Path) -> None:
    app = create_app(ServerConfig(data_dir=tmp_path))
    app.state.db.dispose()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and "audit" in (context.path or route.path):
            assert route.methods <= {"GET", "HEAD"}, (route.path, route.methods)
    with server.client() as admin:
        entry = _entries(admin, f"{API}/audit", limit=1)
        for method in ("PUT", "PATCH", "DELETE", "POST"):
            for url in (
                f"{API}/audit",
                f"{API}/audit/{entry[0]['id'] if entry else 1}",
                f"{API}/entities/admin/audit",
            ):
                assert admin.request(method, url).status_code in (404, 405), (method, url)
