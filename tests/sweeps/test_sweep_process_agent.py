"""``wakelog sweep`` and ``wakelog agent``: trials as processes, agents as processes (kill -9, several)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests._env import child_env
from tests.harness import wait_until
from tests.sweeps.conftest import SweepServer

pytestmark = pytest.mark.process

PROGRAM = """\
import json, os, sys, time
import wakelog

run = wakelog.init()
with open(f"argv-{run.id}.json", "w") as f:
    seen = {"argv": sys.argv[1:], "config": wakelog.config.as_dict(), "env": os.environ["WANDB_SWEEP_ID"]}
    json.dump(seen, f)
end = time.monotonic() + (wakelog.config.get("seconds") or 0)
step = 0
while True:
    wakelog.log({"loss": wakelog.config.get("lr", 1.0) + step})
    step += 1
    if time.monotonic() >= end:
        break
    time.sleep(0.05)  # a training step's work
"""


def _sweep_file(tmp_path: Path, parameters: dict, **more: object) -> Path:
    (tmp_path / "train.py").write_text(textwrap.dedent(PROGRAM))
    config = {
        "program": "train.py",
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": parameters,
        **more,
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _cli(tmp_path: Path, *args: str, wait: bool = True) -> subprocess.Popen[str]:
    """``wakelog ARGS`` in a process; with ``wait``, ended, its output read (``.out``, ``.err``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wakelog", *args],
        cwd=tmp_path,
        env=child_env(WAKELOG_SILENT="true"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        proc.out, proc.err = proc.communicate(timeout=240)  # type: ignore[attr-defined]
        assert proc.returncode == 0, proc.err  # type: ignore[attr-defined]
    return proc


def _create(tmp_path: Path, config_file: Path) -> str:
    out = _cli(tmp_path, "sweep", str(config_file), "--project", "tune").out  # type: ignore[attr-defined]
    line = next(line for line in out.splitlines() if "wakelog agent " in line)
    return line.split("wakelog agent ")[1].strip()


def test_the_agent_runs_the_program_with_wandbs_arguments(sweep_server: SweepServer, tmp_path: Path) -> None:
    path = _create(tmp_path, _sweep_file(tmp_path, {"lr": {"values": [0.5, 0.25]}, "deep": {"value": True}}))
    out = _cli(tmp_path, "agent", path).out  # type: ignore[attr-defined]
    assert "agent ran 2 trials (0 failed)" in out
    written = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("argv-*.json"))]
    assert sorted(sorted(w["argv"]) for w in written) == [
        ["--deep=True", "--lr=0.25"],
        ["--deep=True", "--lr=0.5"],
    ]
    assert {w["env"] for w in written} == {path.split("/")[2]}
    assert sorted(w["config"]["lr"] for w in written) == [0.25, 0.5]
    sweep = sweep_server.sweep(path.split("/")[2])
    assert sorted(t["state"] for t in sweep["trials"]) == ["finished", "finished"]


def test_a_canceled_sweep_sigterms_its_process_trial(sweep_server: SweepServer, tmp_path: Path) -> None:
    path = _create(tmp_path, _sweep_file(tmp_path, {"lr": {"values": [1.0, 2.0]}, "seconds": {"value": 120}}))
    agent = _cli(tmp_path, "agent", path, wait=False)
    sweep_id = path.split("/")[2]
    trial = wait_until(
        lambda: next((t for t in sweep_server.sweep(sweep_id)["trials"] if t["state"] == "running"), None),
        120,
        interval=0.2,
        what="a running trial",
    )
    _cli(tmp_path, "sweep", "--cancel", path)
    out, err = agent.communicate(timeout=120)
    assert agent.returncode == 0, err
    run = sweep_server.run_ends(trial["run_id"])
    assert run["state"] == "killed" and run["metadata"]["stopped_reason"] == "sweep canceled"
    assert "agent ran 1 trials" in out


def test_kill_9_of_an_agent_crashes_its_trial_and_the_sweep_goes_on(
    sweep_server: SweepServer, tmp_path: Path
) -> None:
    path = _create(tmp_path, _sweep_file(tmp_path, {"lr": {"values": [1.0, 2.0]}, "seconds": {"value": 120}}))
    sweep_id = path.split("/")[2]
    doomed = _cli(tmp_path, "agent", path, "--count", "1", wait=False)
    first = wait_until(
        lambda: next((t for t in sweep_server.sweep(sweep_id)["trials"] if t["state"] == "running"), None),
        120,
        interval=0.2,
        what="the first agent's trial to run",
    )
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.communicate()
    crashed = wait_until(  # the server's agent timeout is AGENT_TIMEOUT (12 s) in these tests
        lambda: (
            {t["run_id"]: t for t in sweep_server.sweep(sweep_id)["trials"]}[first["run_id"]]["state"]
            == "crashed"
        ),
        60,
        interval=0.2,
        what="the dead agent's trial to be marked crashed",
    )
    assert crashed
    # The next agent gets the other grid point: the sweep goes on.
    survivor = _cli(tmp_path, "agent", path, "--count", "1", wait=False)
    second = wait_until(
        lambda: next(
            (t for t in sweep_server.sweep(sweep_id)["trials"] if t["run_id"] != first["run_id"]), None
        ),
        120,
        interval=0.2,
        what="a second trial",
    )
    assert second["params"]["lr"] != first["params"]["lr"]
    _cli(tmp_path, "sweep", "--cancel", path)
    survivor.communicate(timeout=120)


@pytest.mark.slow
def test_four_agents_share_a_grid_without_duplicates_or_losses(
    sweep_server: SweepServer, tmp_path: Path
) -> None:
    path = _create(tmp_path, _sweep_file(tmp_path, {"lr": {"values": [0.1 * i for i in range(1, 13)]}}))
    agents = [_cli(tmp_path, "agent", path, wait=False) for _ in range(4)]
    for agent in agents:
        _, err = agent.communicate(timeout=600)
        assert agent.returncode == 0, err
    trials = sweep_server.sweep(path.split("/")[2])["trials"]
    points = [t["params"]["lr"] for t in trials]
    assert len(points) == 12 and len(set(points)) == 12
    assert all(t["state"] == "finished" for t in trials), [t["state"] for t in trials]
    assert len({t["agent"] for t in trials}) >= 2
