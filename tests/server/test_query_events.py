"""Live push: server-sent events for new runs, new points and state changes."""

from __future__ import annotations

import httpx

from tests.harness import EventStream, InProcessServer
from tests.server.conftest import post_records

API = "/api/v1"


class Listener(EventStream):
    """An event stream of ``server``'s, read as its admin over a real socket."""

    def __init__(self, server: InProcessServer, path: str) -> None:
        timeout = httpx.Timeout(20, read=20)
        super().__init__(httpx.Client(base_url=server.url, auth=("api", server.key), timeout=timeout), path)

    def close(self) -> None:
        self.client.close()


def test_project_and_run_streams(server: InProcessServer) -> None:
    project = Listener(server, f"{API}/projects/live/proj/events")
    run = Listener(server, f"{API}/runs/live/proj/r1/events")
    try:
        for listener in (project, run):
            assert listener.next() == ("status", 200)
            event, data = listener.next()
            assert event == "ready" and data["channel"].endswith(
                "live/proj" if listener is project else "proj/r1"
            )
        with server.client() as http:
            first = [
                [0, "run", 1.0, {"id": "r1"}],
                [1, "history", 1.0, {"_step": 0, "loss": 1.0, "acc": 0.5}],
            ]
            assert post_records(http, "live/proj/r1", first).status_code == 200
            assert project.next() == ("run_created", {"run_id": "r1"})
            assert project.next() == (
                "points",
                {"run_id": "r1", "keys": ["acc", "loss"], "points": 2, "ack": 1},
            )
            assert project.next() == ("state", {"run_id": "r1", "state": "running"})
            assert run.next()[0] == "run_created"
            assert run.next()[0] == "points"
            assert run.next()[0] == "state"
            post_records(http, "live/proj/r1", [[2, "history", 2.0, {"_step": 1, "loss": 0.5}]])
            assert run.next() == ("points", {"run_id": "r1", "keys": ["loss"], "points": 1, "ack": 2})
            post_records(http, "live/proj/r1", [[3, "config", 2.0, {"update": {"lr": 0.1}}]])
            assert run.next() == ("run_updated", {"run_id": "r1", "ack": 3})
            post_records(http, "live/proj/r2", [[0, "run", 1.0, {"id": "r2"}]])
            post_records(http, "live/proj/r1", [[4, "exit", 3.0, {"exit_code": 0, "state": "finished"}]])
            assert run.next() == ("state", {"run_id": "r1", "state": "finished"})
            seen = [project.next() for _ in range(5)]
            assert ("run_created", {"run_id": "r2"}) in seen
            assert ("state", {"run_id": "r1", "state": "finished"}) in seen
    finally:
        project.close()
        run.close()


def test_events_need_a_key(server: InProcessServer) -> None:
    response = httpx.get(f"{server.url}{API}/projects/live/proj/events", timeout=10)
    assert response.status_code == 401
