"""A real two-process ``python -m paddle.distributed.launch`` on the CPU (gloo)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests._env import child_env, pythonpath
from tests.conftest import history, records

pytest.importorskip("paddle")
pytestmark = [pytest.mark.paddle, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("paddle_dist_worker.py")


def run_dirs(root: Path) -> list[Path]:
    folder = root / "wakelog"
    return sorted(p for p in folder.iterdir() if p.is_dir() and "run-" in p.name) if folder.exists() else []


def test_two_process_launch_records_rank0_by_default_and_every_rank_when_asked(tmp_path: Path) -> None:
    env = child_env(PYTHONPATH=pythonpath(REPO), WAKELOG_MODE="offline")
    command = [
        sys.executable,
        "-m",
        "paddle.distributed.launch",
        "--nproc_per_node=2",
        f"--log_dir={tmp_path / 'logs'}",
        str(WORKER),
        str(tmp_path),
    ]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, check=False, capture_output=True, text=True, timeout=180
    )
    logs = "".join(
        p.read_text(errors="replace")[-2000:] for p in sorted((tmp_path / "logs").glob("workerlog.*"))
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:] + logs
    assert "rank 0: phase 1 run disabled=False" in logs and "rank 1: phase 1 run disabled=True" in logs

    # Default: only global rank 0 records.
    (fit_run,) = run_dirs(tmp_path / "rank0")
    identity = records(fit_run, "run")[0].data
    assert identity["rank"] == 0 and identity["world_size"] == 2 and identity["name"] == "fit"
    metadata = records(fit_run, "metadata")[-1].data
    assert metadata["paddle"]["world_size"] == 2 and metadata["paddle"]["rank"] == 0
    rows = history(fit_run)
    train = [row for row in rows if "train/step" in row]
    # 64 samples over 2 ranks at 8 per rank: 4 steps, each a global batch of 16.
    assert [row["train/step"] for row in train] == [1, 2, 3, 4]
    config = {k: v for r in records(fit_run, "config") for k, v in r.data["update"].items()}
    assert config["batch_size"] == 16
    assert any("eval/acc" in row for row in rows)

    # WAKELOG_DISTRIBUTED=all: a run per rank, named by rank, in one group.
    runs = sorted(run_dirs(tmp_path / "all"), key=lambda d: records(d, "run")[0].data["rank"])
    assert len(runs) == 2
    identities = [records(d, "run")[0].data for d in runs]
    assert [i["rank"] for i in identities] == [0, 1]
    assert [i["name"] for i in identities] == ["manual-rank0", "manual-rank1"]
    assert identities[0]["group"] == identities[1]["group"] is not None
    for rank, run_dir in enumerate(runs):
        assert [row["rank"] for row in history(run_dir)] == [rank] * 3
    # Gradients were all-reduced over gloo: the ranks saw different data but keep equal weights.
    sums = [[row["weight_sum"] for row in history(d)] for d in runs]
    assert sums[0] == sums[1] and len(set(sums[0])) == 3
    losses = [[row["loss"] for row in history(d)] for d in runs]
    assert losses[0] != losses[1]
