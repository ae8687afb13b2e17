"""Nobody fills the server's disk: uploads need the run's member role, quotas cap users and
entities, abandoned uploads expire, and a disk-space guard answers 507 before the database
cannot write (sign-in and reads keep working).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from tests._disk import tmpfs
from tests.harness import InProcessServer, wait_until
from tests.server.conftest import post_records
from wakelog.cli import main
from wakelog.server.diskguard import DiskGuard
from wakelog.server.errors import InsufficientStorage
from wakelog.server.expiry import collect

API = "/api/v1"
MiB = 1024 * 1024


def new_user(admin: httpx.Client, name: str) -> tuple[str, str]:
    """(API key, password) of a new user."""
    made = admin.post(f"{API}/users", json={"username": name})
    assert made.status_code == 201, made.text
    return admin.post(f"{API}/keys", json={"user": name}).json()["key"], made.json()["password"]


def blob_url(run: str, content: bytes) -> str:
    return f"{API}/runs/{run}/blobs/{hashlib.sha256(content).hexdigest()}"


def upload(client: httpx.Client, run: str, content: bytes) -> httpx.Response:
    sha = hashlib.sha256(content).hexdigest()
    return client.put(
        f"{API}/runs/{run}/blobs/{sha}", params={"offset": 0, "total": len(content)}, content=content
    )


def attach(client: httpx.Client, run: str, name: str, content: bytes) -> httpx.Response:
    entry = {"name": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
    return client.post(f"{API}/runs/{run}/files", json={"files": [entry]})


def refused_for_storage(response: httpx.Response, *words: str) -> bool:
    body = response.json()
    return (
        response.status_code == 507
        and body["code"] == "insufficient_storage"
        and all(word in body["detail"] for word in words)
    )


# -- who may upload ---------------------------------------------------------------------------------
def test_uploads_need_the_member_role_of_the_runs_entity(server: InProcessServer) -> None:
    name = f"u{uuid.uuid4().hex[:8]}"
    team = f"t{uuid.uuid4().hex[:8]}"
    with server.client() as admin:
        key, _ = new_user(admin, name)
        assert admin.post(f"{API}/entities", json={"name": team}).status_code == 201
        assert admin.put(f"{API}/entities/{team}/members/{name}", json={"role": "viewer"}).status_code == 200
    content = os.urandom(1000)
    with server.client(key) as user:
        # The old address took content from anyone signed in, for no run: it is gone.
        old = user.put(
            f"{API}/blobs/{hashlib.sha256(content).hexdigest()}",
            params={"offset": 0, "total": 1000},
            content=content,
        )
        assert old.status_code in (404, 405)
        viewer = upload(user, f"{team}/p/r", content)
        assert viewer.status_code == 403 and "member role" in viewer.json()["detail"]
        assert upload(user, f"other{team}/p/r", content).status_code == 403  # not a member at all
        assert upload(user, f"{name}/p/r", content).json()["complete"] is True  # their own entity


# -- quotas -----------------------------------------------------------------------------------------
def test_a_users_byte_quota_refuses_uploads_past_it_until_raised(server: InProcessServer) -> None:
    name = f"q{uuid.uuid4().hex[:8]}"
    run = f"{name}/p/r"
    with server.client() as admin:
        key, _ = new_user(admin, name)
        set_to = admin.put(f"{API}/users/{name}/quota", json={"max_bytes": 10_000})
        assert set_to.status_code == 200, set_to.text
        assert set_to.json()["max_bytes"] == 10_000 and set_to.json()["custom"] is True
    first, second = os.urandom(6000), os.urandom(6000)
    with server.client(key) as user:
        assert upload(user, run, first).json()["complete"] is True
        refused = upload(user, run, second)
        assert refused_for_storage(refused, f"user {name!r}", "quota"), refused.text
        # unfinished uploads count too: half of it fits, the rest does not
        half = user.put(blob_url(run, second), params={"offset": 0, "total": 6000}, content=second[:3000])
        assert refused_for_storage(half, "quota")
        usage = user.get(f"{API}/usage").json()["user"]
        assert usage["bytes"] == 6000 and usage["max_bytes"] == 10_000
        assert user.put(f"{API}/users/{name}/quota", json={"max_bytes": None}).status_code == 403
    with server.client() as admin:
        assert admin.put(f"{API}/users/{name}/quota", json={"max_bytes": 20_000}).status_code == 200
    with server.client(key) as user:
        assert upload(user, run, second).json()["complete"] is True
    with server.client() as admin:
        assert admin.delete(f"{API}/users/{name}/quota").status_code == 204
        back = admin.get(f"{API}/users/{name}/quota").json()
        assert back["max_bytes"] is None and back["custom"] is False and back["bytes"] == 12_000


def test_an_entitys_row_quota_stops_ingest_and_its_admins_see_it(server: InProcessServer) -> None:
    team = f"t{uuid.uuid4().hex[:8]}"
    boss = f"b{uuid.uuid4().hex[:8]}"
    with server.client() as admin:
        key, _ = new_user(admin, boss)
        assert admin.post(f"{API}/entities", json={"name": team}).status_code == 201
        assert admin.put(f"{API}/entities/{team}/members/{boss}", json={"role": "admin"}).status_code == 200
        assert admin.put(f"{API}/entities/{team}/quota", json={"max_rows": 10}).status_code == 200
    run = f"{team}/p/r"
    with server.client(key) as user:
        batch = [
            [0, "run", 1.0, {}],
            *[[s, "history", 1.0, {"_step": s, "a": 1.0, "b": 2.0}] for s in range(1, 9)],
        ]
        assert post_records(user, run, batch).status_code == 200  # 16 points: the one batch that goes past
        refused = post_records(user, run, [[9, "history", 1.0, {"_step": 9, "a": 1.0}]])
        assert refused_for_storage(refused, f"entity {team!r}", "rows"), refused.text
        assert user.get(f"{API}/runs/{run}").status_code == 200, "reads go on"
        mine = user.get(f"{API}/usage").json()
        (entity,) = [e for e in mine["entities"] if e["name"] == team]
        assert entity["rows"] == 16 and entity["max_rows"] == 10
        assert user.get(f"{API}/entities/{team}/quota").json()["rows"] == 16
        assert user.put(f"{API}/entities/{team}/quota", json={"max_rows": None}).status_code == 403
    with server.client() as admin:
        assert admin.put(f"{API}/entities/{team}/quota", json={"max_rows": None}).status_code == 200
    with server.client(key) as user:
        assert post_records(user, run, [[9, "history", 1.0, {"_step": 9, "a": 1.0}]]).status_code == 200


def test_an_entitys_byte_quota_counts_attached_content(server: InProcessServer) -> None:
    team = f"t{uuid.uuid4().hex[:8]}"
    with server.client() as admin:
        assert admin.post(f"{API}/entities", json={"name": team}).status_code == 201
        assert admin.put(f"{API}/entities/{team}/quota", json={"max_bytes": 5000}).status_code == 200
        run = f"{team}/p/r"
        content = os.urandom(4000)
        assert upload(admin, run, content).json()["complete"] is True
        assert attach(admin, run, "a.bin", content).status_code == 200
        assert attach(admin, f"{team}/p/r2", "again.bin", content).status_code == 200, "counted once"
        more = os.urandom(2000)
        assert refused_for_storage(upload(admin, run, more), f"entity {team!r}")
        elsewhere = f"e{uuid.uuid4().hex[:8]}"
        assert admin.post(f"{API}/entities", json={"name": elsewhere}).status_code == 201
        assert upload(admin, f"{elsewhere}/p/r", more).json()["complete"] is True
        assert refused_for_storage(attach(admin, run, "more.bin", more), f"entity {team!r}")


def test_the_cli_sets_and_shows_quotas(server: InProcessServer) -> None:
    name = f"c{uuid.uuid4().hex[:8]}"
    with server.client() as admin:
        new_user(admin, name)
    data = ["--data-dir", str(server.data_dir), "--backend-store", server.database_url]

    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, [*args, *data])
        assert result.exit_code == 0, result.output
        return result.output

    assert "quota of user" in cli(
        "quota", "set", "--user", name, "--max-bytes", "2G", "--max-rows", "1000000"
    )
    shown = cli("quota", "show", "--user", name)
    assert "2.0 GiB" in shown and "1,000,000 rows" in shown and "set for it" in shown
    with server.client() as admin:
        assert admin.get(f"{API}/users/{name}/quota").json()["max_bytes"] == 2 * 1024**3
    cli("quota", "reset", "--user", name)
    assert "unlimited" in cli("quota", "show", "--user", name)
    bad = CliRunner().invoke(main, ["quota", "show", "--entity", "nosuch", *data])
    assert bad.exit_code != 0 and "no entity 'nosuch'" in bad.output


# -- expiry -----------------------------------------------------------------------------------------
def test_unfinished_and_unattached_uploads_expire(server: InProcessServer) -> None:
    state = server.app.state
    config = dataclasses.replace(state.config, staging_max_age=3600, unattached_max_age=7 * 86400)
    run = f"admin/expiry/{uuid.uuid4().hex[:8]}"
    partial, loose, kept = os.urandom(5000), os.urandom(3000), os.urandom(2000)
    with server.client() as admin:
        assert (
            admin.put(
                blob_url(run, partial), params={"offset": 0, "total": 5000}, content=partial[:2000]
            ).status_code
            == 200
        )
        assert upload(admin, run, loose).json()["complete"] is True
        assert upload(admin, run, kept).json()["complete"] is True
        assert attach(admin, run, "kept.bin", kept).status_code == 200
        now = time.time()
        collect(state.db, state.blobs, config, now=now)
        assert admin.get(blob_url(run, partial)).json()["received"] == 2000, "young uploads stay"
        collect(state.db, state.blobs, config, now=now + 2 * 3600)
        assert admin.get(blob_url(run, partial)).json() == {"complete": False, "received": 0}
        assert admin.get(blob_url(run, loose)).json()["complete"] is True, "a week to be attached"
        result = collect(state.db, state.blobs, config, now=now + 8 * 86400)
        assert result.unattached >= 1
        assert admin.get(blob_url(run, loose)).json() == {"complete": False, "received": 0}
        assert attach(admin, run, "late.bin", loose).status_code == 409, "upload it again"
        assert not state.blobs.exists(hashlib.sha256(loose).hexdigest())
        assert admin.get(f"{API}/runs/{run}/files/kept.bin").content == kept


def test_the_server_expires_uploads_by_itself_and_gc_does_on_demand(tmp_path: Path) -> None:
    with (
        InProcessServer(tmp_path / "data", staging_max_age=0, gc_seconds=0.05) as server,
        server.client() as admin,
    ):
        content = os.urandom(4000)
        url = blob_url("admin/p/r", content)
        assert admin.put(url, params={"offset": 0, "total": 4000}, content=content[:1000]).status_code == 200
        wait_until(lambda: admin.get(url).json()["received"] == 0, 30, what="the staged upload to expire")
    with InProcessServer(tmp_path / "data2", gc_seconds=0) as server, server.client() as admin:
        content = os.urandom(4000)
        url = blob_url("admin/p/r", content)
        assert admin.put(url, params={"offset": 0, "total": 4000}, content=content[:1000]).status_code == 200
        args = ["server", "gc", "--data-dir", str(server.data_dir), "--staging-max-age", "0s"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert "deleted 1 unfinished uploads" in result.output
        assert admin.get(url).json()["received"] == 0


# -- the disk-space guard ---------------------------------------------------------------------------
def test_the_guard_measures_rarely_and_names_free_space_and_reserve() -> None:
    free, calls, now = [10 * MiB], [], [0.0]

    def probe(path: str) -> int:
        calls.append(path)
        return free[0]

    guard = DiskGuard(["/data"], 64 * MiB, probe=probe, clock=lambda: now[0], ttl=2.0)
    with pytest.raises(InsufficientStorage) as refused:
        guard.check()
    assert "10.0 MiB free" in str(refused.value) and "64.0 MiB" in str(refused.value)
    free[0] = 100 * MiB
    with pytest.raises(InsufficientStorage):
        guard.check()  # measured a moment ago
    assert len(calls) == 1
    now[0] = 2.5
    guard.check()
    assert len(calls) == 2


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs: a real disk that fills up (needs root and a kernel that lets us mount)."""
    with tmpfs(tmp_path / "disk", "8m") as mount:
        yield mount


def test_a_full_disk_refuses_new_data_with_507_and_sign_in_keeps_working(small_disk: Path) -> None:
    with InProcessServer(small_disk / "data", min_free_bytes=3 * MiB) as server:
        with server.client() as admin:
            key, password = new_user(admin, "filler")
        run = "filler/p/r"
        with server.client(key) as user:
            assert post_records(user, run, [[0, "run", 1.0, {}]]).status_code == 200
            for _ in range(16):
                answer = upload(user, run, os.urandom(MiB // 2))
                server.app.state.disk_guard.forget()  # measure every time: the test fills fast
                if answer.status_code != 200:
                    break
            assert refused_for_storage(answer, "free", "3.0 MiB", "reserve"), answer.text
            refused = post_records(user, run, [[1, "history", 1.0, {"_step": 0, "x": 1.0}]])
            assert refused_for_storage(refused, "free"), refused.text
            assert user.get(f"{API}/runs/{run}").status_code == 200, "reads go on"
        with httpx.Client(base_url=server.url) as browser:
            signed_in = browser.post(f"{API}/auth/login", json={"username": "filler", "password": password})
            assert signed_in.status_code == 200, signed_in.text
            assert browser.get(f"{API}/auth/me").json()["username"] == "filler"

        # Past the reserve (something else filled the disk): still 507 with a reason, never 500.
        server.app.state.disk_guard.reserve = 0
        filler = small_disk / "filler"
        with open(filler, "wb", buffering=0) as f:  # unbuffered: nothing left to fail at close
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        with server.client(key) as user:
            stored = upload(user, run, os.urandom(MiB))
            assert refused_for_storage(stored, "out of storage"), stored.text
            # SQLite may still find room in its write-ahead log; if not, the answer says why
            ingest = post_records(user, run, [[1, "history", 1.0, {"_step": 0, "x": 1.0}]])
            assert ingest.status_code == 200 or refused_for_storage(ingest, "out of storage"), ingest.text
            filler.unlink()
            again = [[1, "history", 1.0, {"_step": 0, "x": 1.0}], [2, "history", 1.0, {"_step": 1, "x": 1.0}]]
            assert post_records(user, run, again).status_code == 200
