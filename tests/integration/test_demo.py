"""`wakelog demo`: the embedded server plus a real Paddle training logged to it live."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import ServerProcess, free_port

pytest.importorskip("paddle")
pytestmark = pytest.mark.paddle


def test_demo_trains_live_against_its_server_and_prints_the_run_url(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "server"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "wakelog",
            "demo",
            "--exit",
            "--epochs",
            "1",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    match = re.search(rf"http://127\.0\.0\.1:{port}/(\w+)/paddle-digits/runs/(\w+)", result.stdout)
    assert match, result.stdout
    assert "admin-credentials.txt" in result.stdout
    entity, run_id = match.groups()
    server = ServerProcess(f"http://127.0.0.1:{port}", data_dir, port, [])
    server.start()
    try:
        with server.client() as http:
            run = http.get(f"/api/v1/runs/{entity}/paddle-digits/{run_id}").json()
            history = http.get(
                f"/api/v1/runs/{entity}/paddle-digits/{run_id}/history", params={"keys": "train/loss"}
            ).json()
    finally:
        server.stop()
    assert run["state"] == "finished"
    assert 0 <= run["summary"]["eval/accuracy"] <= 1 and run["config"]["epochs"] == 1
    (series,) = history["series"]
    steps_per_epoch = -(-1437 // 64)  # digits train split, batch 64
    assert len(series["steps"]) == steps_per_epoch, "every logged loss reached the server"
    assert all(value > 0 for value in series["values"])
