"""`wakelog demo --sweep`: the embedded server, and a real sweep of the Paddle CNN through
`wakelog sweep` and `wakelog agent` (real processes: the server, the agent, each trial)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._env import child_env
from tests.server.conftest import ServerProcess, free_port

pytest.importorskip("paddle")
pytest.importorskip("sklearn")
pytestmark = [pytest.mark.paddle, pytest.mark.slow, pytest.mark.process]


@pytest.mark.timeout(900)
def test_demo_sweep_runs_its_trials_and_prints_the_sweep_page(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "server"
    argv = [
        "demo",
        "--sweep",
        "2",
        "--epochs",
        "1",
        "--exit",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "wakelog", *argv],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(rf"sweep page http://127\.0\.0\.1:{port}/(\w+)/(\S+)/sweeps/(\w+)", result.stdout)
    assert match, result.stdout
    entity, project, sweep_id = match.groups()
    server = ServerProcess(f"http://127.0.0.1:{port}", data_dir, port, [])
    server.start()
    try:
        with server.client() as http:
            sweep = http.get(f"/api/v1/sweeps/{entity}/{project}/{sweep_id}").json()
            runs = [
                http.get(f"/api/v1/runs/{entity}/{project}/{t['run_id']}").json() for t in sweep["trials"]
            ]
    finally:
        server.stop()
    assert sweep["config"]["parameters"]["epochs"] == {"distribution": "constant", "value": 1}
    assert sweep["run_cap"] == 2 and sweep["state"] == "finished"
    assert [t["state"] for t in sweep["trials"]] == ["finished", "finished"]
    assert all(t["metric"] is not None and 0 <= t["metric"] <= 1 for t in sweep["trials"])
    for run in runs:
        assert run["config"]["epochs"] == 1 and run["metadata"]["sweep_id"] == sweep_id
