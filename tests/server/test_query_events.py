"""Live push: server-sent events for new runs, new points and state changes."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import httpx

from tests.harness import InProcessServer
from tests.server.conftest import post_records

API = "/api/v1"


class Listener:
    """Reads an SSE stream in a thread; ``next()`` returns (event, data) or fails after a timeout."""

    def __init__(self, server: InProcessServer, path: str) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = httpx.Client(
            base_url=server.url, auth=("api", server.key), timeout=httpx.Timeout(20, read=20)
        )
        self.thread = threading.Thread(target=self._read, args=(path,), daemon=True)
        self.thread.start()

    def _read(self, path: str) -> None:
        try:
            with self.client.stream("GET", path) as response:
                self.events.put(("status", response.status_code))
                event = "message"
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        self.events.put((event, json.loads(line[5:])))
                        event = "message"
        except httpx.HTTPError as exc:
            self.events.put(("closed", str(exc)))

    def next(self) -> tuple[str, Any]:
        return self.events.get(timeout=20)

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
