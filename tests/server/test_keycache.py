"""API keys and the entity checks they passed are trusted for ``KEY_CACHE_SECONDS``, never longer.

A change made beside this replica (the command line, another replica) goes through
``accounts``/``teams`` on the same database without the replica's routes: it takes effect once the
cache's (fake) clock has moved past the bound. A change through this replica's routes, a grant, or
anything refused takes effect at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.harness import FakeClock, InProcessServer
from tests.server.conftest import post_records, request_trips
from wakelog.server import accounts, teams
from wakelog.server.keycache import KEY_CACHE_SECONDS, KeyCache

API = "/api/v1"


@pytest.fixture
def clock(server: InProcessServer) -> Iterator[FakeClock]:
    clock = FakeClock()
    server.app.state.key_cache = KeyCache(clock=clock)
    yield clock
    server.app.state.key_cache = KeyCache()


def member(server: InProcessServer, role: str = "member") -> tuple[str, str, str]:
    """A new user with a key, and a new team where they hold ``role``: (username, key, team)."""
    name, team = f"u{uuid.uuid4().hex[:8]}", f"t{uuid.uuid4().hex[:8]}"
    with server.client() as admin:
        assert admin.post(f"{API}/users", json={"username": name}).status_code == 201
        key = admin.post(f"{API}/keys", json={"user": name}).json()["key"]
    teams.create_team(server.app.state.db, team)
    teams.set_member(server.app.state.db, team, name, role)
    return name, key, team


def write(client: httpx.Client, team: str, seq: int) -> int:
    return post_records(client, f"{team}/p/r", [[seq, "history", 1.0, {"x": 1.0, "_step": seq}]]).status_code


def test_a_key_revoked_beside_the_server_works_until_the_bound_then_never(
    server: InProcessServer, clock: FakeClock
) -> None:
    _, key, team = member(server)
    with server.client(key) as client:
        assert write(client, team, 0) == 200
        accounts.revoke_api_key(server.app.state.db, key[:11])
        clock.sleep(KEY_CACHE_SECONDS - 0.5)
        assert write(client, team, 1) == 200
        clock.sleep(0.5)
        assert write(client, team, 2) == 401
        assert client.get(f"{API}/auth/me").status_code == 401


def test_a_key_revoked_through_this_server_stops_at_once(server: InProcessServer, clock: FakeClock) -> None:
    _, key, team = member(server)
    with server.client(key) as client:
        assert write(client, team, 0) == 200
        assert client.delete(f"{API}/keys/{key[:11]}").status_code == 204
        assert write(client, team, 1) == 401


def test_a_removed_member_writes_until_the_bound_and_a_grant_counts_at_once(
    server: InProcessServer, clock: FakeClock
) -> None:
    name, key, team = member(server, "viewer")
    db = server.app.state.db
    with server.client(key) as client:
        assert write(client, team, 0) == 403  # a refusal is never remembered:
        teams.set_member(db, team, name, "member")
        assert write(client, team, 0) == 200  # the grant counts at once
        teams.remove_member(db, team, name)
        assert write(client, team, 1) == 200  # within the bound
        clock.sleep(KEY_CACHE_SECONDS)
        assert write(client, team, 2) == 403
    with server.client() as admin, server.client(key) as client:  # through this server's routes: at once
        role = f"{API}/entities/{team}/members/{name}"
        assert admin.put(role, json={"role": "member"}).status_code == 200
        assert write(client, team, 2) == 200
        assert admin.put(role, json={"role": "viewer"}).status_code == 200
        assert write(client, team, 3) == 403


def test_a_small_batch_whose_key_passed_lately_makes_one_trip_to_a_thread(
    server: InProcessServer, clock: FakeClock, trips: list[tuple[int, str]]
) -> None:
    # Each trip costs about what a small batch's checks cost: the key and the role the cache
    # answers are checked on the event loop, the gzip body is unpacked with the transaction.
    _, key, team = member(server)
    with server.client(key) as client:
        assert post_records(client, f"{team}/p/r", [[0, "run", 1.0, {}]], gzipped=True).status_code == 200
        trips.clear()
        batch = [[1, "history", 1.0, {"x": 1.0, "_step": 1}]]
        assert post_records(client, f"{team}/p/r", batch, gzipped=True).status_code == 200
        assert request_trips(trips, "_ingest") == ["_ingest"]
        clock.sleep(KEY_CACHE_SECONDS)  # what the cache no longer answers, the database does: off the loop
        trips.clear()
        assert write(client, team, 2) == 200
        assert request_trips(trips, "_ingest") == ["_identify", "check_writer", "_ingest"]
