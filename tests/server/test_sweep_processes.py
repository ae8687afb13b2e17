"""Sweeps across restarts and processes: the state is in the database only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests._env import child_env
from tests.harness import InProcessServer
from tests.server.conftest import start_server

API = "/api/v1"
BAYES = {
    "method": "bayes",
    "metric": {"name": "loss"},
    "parameters": {"x": {"min": 0.0, "max": 1.0}, "k": {"values": [1, 2, 3]}},
    "run_cap": 30,
}


def test_a_restarted_server_carries_on_with_the_sweep(tmp_path: Path) -> None:
    with InProcessServer(tmp_path / "data") as server, server.client() as client:
        sweep = client.post(f"{API}/projects/admin/p/sweeps", json={"config": BAYES}).json()
        base = f"{API}/sweeps/admin/p/{sweep['id']}"
        me = client.post(f"{base}/agents", json={"host": "h", "pid": 1}).json()["agent_id"]
        before = [client.post(f"{base}/agents/{me}/next").json() for _ in range(12)]
        assert client.post(f"{base}/control", json={"action": "pause"}).status_code == 200
    with InProcessServer(tmp_path / "data") as server, server.client() as client:
        got = client.get(base).json()
        assert got["state"] == "paused" and [t["run_id"] for t in got["trials"]] == [
            w["run_id"] for w in before
        ]
        assert [t["params"] for t in got["trials"]] == [w["params"] for w in before]
        assert client.post(f"{base}/control", json={"action": "resume"}).status_code == 200
        after = [client.post(f"{base}/agents/{me}/next").json() for _ in range(19)]
        assert [w["action"] for w in after] == ["run"] * 18 + ["done"], "run_cap counts the trials before"
        assert len({w["run_id"] for w in before + after[:-1]}) == 30


AGENT = """
import json, sys, httpx
url, key, base = sys.argv[1:4]
with httpx.Client(base_url=url, auth=("api", key), timeout=60) as client:
    me = client.post(f"{base}/agents", json={"host": "h", "pid": 0}).json()["agent_id"]
    got = []
    while (answer := client.post(f"{base}/agents/{me}/next").json())["action"] == "run":
        got.append(answer["params"])
print(json.dumps(got))
"""


@pytest.mark.process
def test_ten_agent_processes_share_a_grid_on_one_sqlite_server(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        with server.client() as client:
            config = {
                "method": "grid",
                "parameters": {"a": {"values": list(range(10))}, "b": {"values": list(range(6))}},
            }
            sweep = client.post(f"{API}/projects/admin/p/sweeps", json={"config": config}).json()
        base = f"{API}/sweeps/admin/p/{sweep['id']}"
        agents = [
            subprocess.Popen(
                [sys.executable, "-c", AGENT, server.url, server.key, base],
                stdout=subprocess.PIPE,
                env=child_env(),
            )
            for _ in range(10)
        ]
        handed = []
        for proc in agents:
            out, _ = proc.communicate(timeout=300)
            assert proc.returncode == 0
            handed += [(p["a"], p["b"]) for p in json.loads(out)]
        assert sorted(handed) == [(a, b) for a in range(10) for b in range(6)], "each point once, none lost"
        with server.client() as client:
            assert len(client.get(base).json()["trials"]) == 60
    finally:
        server.stop()
