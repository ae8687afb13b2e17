"""A server for the sweep tests (the real app in this process, SQLite) and the SDK pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import InProcessServer, wait_until
from wakelog.sweeps._agent import AgentOptions

#: The test server's agent timeout: past two heartbeats of a ``wakelog agent`` process (every 5 s by
#: default), so a live agent on a loaded machine is never taken for dead; a killed one is within 12 s.
AGENT_TIMEOUT = 2 * AgentOptions.heartbeat_interval + 2.0


class SweepServer:
    """The in-process server, and how the tests read sweeps and runs back from it."""

    def __init__(self, server: InProcessServer) -> None:
        self.server = server
        self.http: httpx.Client = server.client()
        self.entity = str(self.http.get("/api/v1/auth/me").json()["username"])

    def sweep(self, sweep_id: str, project: str = "tune") -> dict[str, Any]:
        answer = self.http.get(f"/api/v1/sweeps/{self.entity}/{project}/{sweep_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def run(self, run_id: str, project: str = "tune") -> dict[str, Any]:
        answer = self.http.get(f"/api/v1/runs/{self.entity}/{project}/{run_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def run_ends(self, run_id: str, project: str = "tune", timeout: float = 60) -> dict[str, Any]:
        """The run once the server has it ended (its uploader may still be sending)."""

        def ended() -> dict[str, Any] | None:
            answer = self.http.get(f"/api/v1/runs/{self.entity}/{project}/{run_id}")
            if answer.status_code == 200 and answer.json()["state"] not in ("running", "pending"):
                return dict(answer.json())
            return None

        return wait_until(ended, timeout, interval=0.1, what=f"run {run_id} to end on the server")


def serve_sweeps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SweepServer]:
    """The in-process server with a short agent timeout, and the SDK's settings pointing at it."""
    with InProcessServer(tmp_path / "server", sweep_agent_timeout=AGENT_TIMEOUT) as server:
        monkeypatch.setenv("WAKELOG_MODE", "online")
        monkeypatch.setenv("WAKELOG_BASE_URL", server.url)
        monkeypatch.setenv("WAKELOG_API_KEY", server.key)
        monkeypatch.setenv("WAKELOG_PROJECT", "tune")
        handle = SweepServer(server)
        try:
            yield handle
        finally:
            handle.http.close()


@pytest.fixture
def sweep_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SweepServer]:
    yield from serve_sweeps(tmp_path, monkeypatch)
