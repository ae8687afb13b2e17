"""Who someone is, and for how long: names are not identities, withdrawn access ends everywhere
it was in use, and nobody can make the server throttle someone else or hog it alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from tests.harness import EventStream, InProcessServer
from tests.server.conftest import post_records, start_server
from wakelog.cli import main

API = "/api/v1"


def new_user(admin: httpx.Client, name: str) -> tuple[str, str]:
    """A new user's API key and password."""
    made = admin.post(f"{API}/users", json={"username": name})
    assert made.status_code == 201, made.text
    key = admin.post(f"{API}/keys", json={"user": name}).json()["key"]
    return key, made.json()["password"]


def refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status and response.json()["code"] == code, response.text
    return response.json()["detail"]


class Stream(EventStream):
    """An event stream over a real socket, with the checks these tests repeat."""

    def opened(self) -> None:
        assert self.next() == ("status", 200)
        assert self.next()[0] == "ready"

    def ends_denied(self, timeout: float = 20) -> None:
        assert self.next(timeout) == ("denied", {"reason": "access withdrawn"})
        assert self.next(timeout) == ("closed", None)


def over_socket(server: InProcessServer, **options: Any) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=httpx.Timeout(30, read=30), **options)


# -- M1: names are not identities -------------------------------------------------------------
def test_a_name_held_by_a_user_or_an_entity_is_refused(server: InProcessServer) -> None:
    with server.client() as admin:
        assert admin.post(f"{API}/entities", json={"name": "secret-team"}).status_code == 201
        assert post_records(admin, "secret-team/p/r", [[0, "run", 1.0, {}]]).status_code == 200
        detail = refused(admin.post(f"{API}/users", json={"username": "secret-team"}), 409, "conflict")
        assert "taken by an existing entity" in detail
        new_user(admin, "dora")
        detail = refused(admin.post(f"{API}/entities", json={"name": "Dora"}), 409, "conflict")
        assert "taken by an existing user" in detail
        assert admin.get(f"{API}/entities/secret-team/members").json() == {"members": []}


def test_a_deleted_users_runs_never_reach_a_new_user_of_that_name(server: InProcessServer) -> None:
    with server.client() as admin:
        key, _ = new_user(admin, "gwen")
        with server.client(key) as gwen:
            assert post_records(gwen, "gwen/p/private", [[0, "run", 1.0, {}]]).status_code == 200
        detail = refused(admin.delete(f"{API}/users/gwen"), 409, "conflict")
        assert "--reassign-to" in detail and "--delete-runs" in detail
        assert admin.get(f"{API}/runs/gwen/p/private").status_code == 200, "a refused delete changes nothing"
        assert admin.delete(f"{API}/users/gwen", params={"delete_runs": "true"}).status_code == 204
        assert admin.get(f"{API}/runs/gwen/p/private").status_code == 404
        key, _ = new_user(admin, "gwen")
    with server.client(key) as new_gwen:
        assert new_gwen.get(f"{API}/runs/gwen/p/private").status_code == 404
        assert new_gwen.get(f"{API}/projects/gwen/p/runs").status_code == 404


def test_a_reassigned_entity_keeps_its_runs_and_its_name(server: InProcessServer) -> None:
    with server.client() as admin:
        key, _ = new_user(admin, "hal")
        heir, _ = new_user(admin, "ivy")
        with server.client(key) as hal:
            assert post_records(hal, "hal/p/r", [[0, "run", 1.0, {}]]).status_code == 200
        both = {"reassign_to": "ivy", "delete_runs": "true"}
        refused(admin.delete(f"{API}/users/hal", params=both), 400, "invalid_request")
        refused(admin.delete(f"{API}/users/hal", params={"reassign_to": "nobody"}), 404, "not_found")
        assert admin.delete(f"{API}/users/hal", params={"reassign_to": "ivy"}).status_code == 204
        refused(admin.post(f"{API}/users", json={"username": "hal"}), 409, "conflict")
    with server.client(heir) as ivy:
        assert ivy.get(f"{API}/runs/hal/p/r").status_code == 200
        assert ivy.get(f"{API}/entities/hal/members").json() == {
            "members": [{"username": "ivy", "role": "admin"}]
        }


def test_the_cli_says_what_becomes_of_a_deleted_users_runs(server: InProcessServer) -> None:
    with server.client() as admin:
        key, _ = new_user(admin, "jon")
        new_user(admin, "empty")
    with server.client(key) as jon:
        assert post_records(jon, "jon/p/r", [[0, "run", 1.0, {}]]).status_code == 200
    where = ["--data-dir", str(server.data_dir), *server.args]

    def cli(*args: str) -> Any:
        return CliRunner().invoke(main, ["user", "delete", *args, "--yes", *where])

    failed = cli("jon")
    assert failed.exit_code == 1 and "--reassign-to USER" in failed.output, failed.output
    assert cli("empty").exit_code == 0, "an empty personal entity needs no choice"
    done = cli("jon", "--delete-runs")
    assert done.exit_code == 0 and "deleted user jon" in done.output, done.output
    with server.client() as admin:
        assert admin.get(f"{API}/runs/jon/p/r").status_code == 404


# -- M2 and L4: withdrawn access ends sessions and streams --------------------------------------
def test_revoking_a_key_ends_the_sessions_and_streams_it_opened(server: InProcessServer) -> None:
    with server.client() as admin:
        key, password = new_user(admin, "kim")
    with server.client(key) as kim:
        assert post_records(kim, "kim/p/r", [[0, "run", 1.0, {}]]).status_code == 200
        prefix = kim.get(f"{API}/keys").json()["keys"][0]["prefix"]
    with over_socket(server) as by_key, over_socket(server) as by_password:
        assert by_key.post(f"{API}/auth/login", json={"api_key": key}).status_code == 200
        signed_in = by_password.post(f"{API}/auth/login", json={"username": "kim", "password": password})
        assert signed_in.status_code == 200
        stream = Stream(by_key, f"{API}/projects/kim/p/events")
        stream.opened()
        with server.client() as admin:
            assert admin.delete(f"{API}/keys/{prefix}").status_code == 204
        stream.ends_denied()
        assert by_key.get(f"{API}/auth/me").status_code == 401
        assert by_password.get(f"{API}/auth/me").status_code == 200, "a password session is not the key's"


def test_removing_a_member_ends_their_streams_of_that_entity(server: InProcessServer) -> None:
    with server.client() as admin:
        key, _ = new_user(admin, "lena")
        assert admin.post(f"{API}/entities", json={"name": "live-team"}).status_code == 201
        assert admin.put(f"{API}/entities/live-team/members/lena", json={"role": "viewer"}).status_code == 200
        assert post_records(admin, "live-team/p/r", [[0, "run", 1.0, {}]]).status_code == 200
        assert post_records(admin, "lena/p/r", [[0, "run", 1.0, {}]]).status_code == 200
        with over_socket(server, auth=("api", key)) as lena:
            team_stream = Stream(lena, f"{API}/projects/live-team/p/events")
            own_stream = Stream(lena, f"{API}/runs/lena/p/r/events")
            team_stream.opened()
            own_stream.opened()
            assert admin.delete(f"{API}/entities/live-team/members/lena").status_code == 204
            team_stream.ends_denied()
            assert (
                post_records(admin, "lena/p/r", [[1, "config", 2.0, {"update": {"lr": 1}}]]).status_code
                == 200
            )
            assert own_stream.next() == ("run_updated", {"run_id": "r", "ack": 1}), "their own goes on"


def test_streams_check_access_again_without_being_told(tmp_path: Path) -> None:
    """A change the serving process does not hear about (the CLI, another replica's lost event)
    ends the stream at the next periodic check."""
    with InProcessServer(tmp_path / "data", access_recheck_seconds=0.2) as server, server.client() as admin:
        key, _ = new_user(admin, "max")
        assert admin.post(f"{API}/entities", json={"name": "quiet"}).status_code == 201
        assert admin.put(f"{API}/entities/quiet/members/max", json={"role": "viewer"}).status_code == 200
        with over_socket(server, auth=("api", key)) as max_:
            stream = Stream(max_, f"{API}/projects/quiet/p/events")
            stream.opened()
            removed = CliRunner().invoke(
                main, ["team", "remove", "quiet", "max", "--data-dir", str(server.data_dir)]
            )
            assert removed.exit_code == 0, removed.output
            stream.ends_denied()


# -- L3 and M7: throttles and rate limits --------------------------------------------------------
def test_guessing_from_one_address_does_not_lock_the_owner_out(tmp_path: Path) -> None:
    with InProcessServer(tmp_path / "data", trusted_proxies=["127.0.0.1"]) as server:
        with server.client() as admin:
            _, password = new_user(admin, "olaf")
        login = f"{API}/auth/login"
        with server.anonymous(headers={"X-Forwarded-For": "203.0.113.7"}) as attacker:
            answers = [
                attacker.post(login, json={"username": "olaf", "password": "wrong-guess"}).status_code
                for _ in range(7)
            ]
            assert answers[-1] == 429 and set(answers[:5]) == {401}, answers
        with server.anonymous(headers={"X-Forwarded-For": "198.51.100.2"}) as owner:
            assert owner.post(login, json={"username": "olaf", "password": password}).status_code == 200


def test_failed_api_keys_are_throttled_per_address(tmp_path: Path) -> None:
    with InProcessServer(tmp_path / "data") as server, server.client("wk_" + "x" * 40) as guesser:
        answers = [guesser.get(f"{API}/projects").status_code for _ in range(51)]  # the free ones
        assert set(answers) == {401}, answers
        last = guesser.get(f"{API}/projects")
        assert refused(last, 429, "rate_limited") and int(last.headers["retry-after"]) >= 1


def test_writes_are_rate_limited_per_user(tmp_path: Path) -> None:
    with InProcessServer(tmp_path / "data", write_rate_per_user=0.01, write_burst_seconds=500) as server:
        with server.client() as admin:
            key, _ = new_user(admin, "pia")  # two writes of the admin's
            for step in range(3):
                assert (
                    post_records(admin, "admin/p/r", [[step, "history", 1.0, {"_step": step}]]).status_code
                    == 200
                )
            limited = post_records(admin, "admin/p/r", [[3, "history", 1.0, {"_step": 3}]])
            assert "faster than this server allows" in refused(limited, 429, "rate_limited")
            assert int(limited.headers["retry-after"]) >= 1
            assert admin.get(f"{API}/runs/admin/p/r").status_code == 200, "reading is not limited"
        with server.client(key) as pia:
            assert post_records(pia, "pia/p/r", [[0, "run", 1.0, {}]]).status_code == 200, "per user"


@pytest.mark.process
def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(tmp_path: Path) -> None:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 by default: any local client could claim
    a new address for every guess. ``wakelog server`` believes it only from --trusted-proxy."""
    server = start_server(tmp_path)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            answers = [
                client.post(
                    f"{API}/auth/login",
                    json={"api_key": "wk_" + "x" * 40},
                    headers={"X-Forwarded-For": f"192.0.2.{i}"},
                ).status_code
                for i in range(40)
            ]
        assert answers[0] == 401 and answers[-1] == 429, answers
    finally:
        server.stop()
