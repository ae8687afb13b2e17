"""A run started by a sweep agent: locked parameters, its sweep id, and how a stopped run ends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import wakelog
from wakelog.runlog import find_runlog, read_runlog
from wakelog.sdk._sweep import read_params, write_params, write_stop_reason


def _trial_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, params: dict, prefix: str = "WAKELOG_"
) -> Path:
    path = tmp_path / "sweep-abc" / "config-trial001.json"
    write_params(path, params)
    monkeypatch.setenv(prefix + "SWEEP_ID", "abc12345")
    monkeypatch.setenv(prefix + "RUN_ID", "trial001")
    monkeypatch.setenv(prefix + "SWEEP_PARAM_PATH", str(path))
    return path


def _records(run_dir: Path, kind: str) -> list[dict]:
    return [r.data for r in read_runlog(find_runlog(run_dir)).records if r.type == kind]


def test_init_in_a_trial_takes_the_parameters_locked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _trial_env(monkeypatch, tmp_path, {"lr": 0.1, "optimizer": {"name": "sgd", "momentum": 0.9}})
    run = wakelog.init(mode="offline", config={"lr": 0.001, "epochs": 3})
    assert (run.id, run.sweep_id) == ("trial001", "abc12345")
    assert wakelog.config.lr == 0.1  # the sweep's value wins over the script's default
    assert wakelog.config.optimizer == {"name": "sgd", "momentum": 0.9}
    assert wakelog.config.epochs == 3
    with pytest.warns(UserWarning, match="'lr' was locked by 'sweep'"):
        wakelog.config.update({"lr": 0.5})
    with pytest.warns(UserWarning, match="'lr' was locked by 'sweep'"):
        wakelog.config.lr = 0.7
    assert wakelog.config.lr == 0.1
    run_dir = Path(run.run_dir)
    run.finish()
    assert _records(run_dir, "run")[0]["sweep_id"] == "abc12345"
    assert json.loads((run_dir / "metadata.json").read_text())["sweep_id"] == "abc12345"


def test_the_wandb_spellings_work_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _trial_env(monkeypatch, tmp_path, {"batch_size": 32}, prefix="WANDB_")
    run = wakelog.init(mode="offline")
    assert (run.id, run.sweep_id, run.config.batch_size) == ("trial001", "abc12345", 32)


def test_a_trial_stays_in_the_sweeps_project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _trial_env(monkeypatch, tmp_path, {"lr": 0.1})
    monkeypatch.setenv("WAKELOG_PROJECT", "tuning")
    with pytest.warns(UserWarning, match="init\\(project='mine'\\) is ignored in a sweep"):
        run = wakelog.init(mode="offline", project="mine")
    assert run.project == "tuning"


def test_a_run_outside_a_sweep_has_no_sweep_id(tmp_path: Path) -> None:
    run = wakelog.init(mode="offline", project="p", config={"lr": 1})
    assert run.sweep_id is None
    wakelog.config.update({"lr": 2}, allow_val_change=True)
    assert wakelog.config.lr == 2


def test_a_run_the_sweep_stopped_ends_killed_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _trial_env(monkeypatch, tmp_path, {"lr": 0.1})
    run = wakelog.init(mode="offline")
    run.log({"loss": 1.0})
    run._request_stop("hyperband: below the bracket's cut at step 3")
    run_dir = Path(run.run_dir)
    run.finish()  # however the script ends it
    exit_record = _records(run_dir, "exit")[-1]
    assert (exit_record["state"], exit_record["exit_code"]) == ("killed", 255)
    metadata = _records(run_dir, "metadata")[-1]
    assert metadata["stopped_reason"] == "hyperband: below the bracket's cut at step 3"


def test_a_signal_reads_the_agents_stop_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Subprocess mode: the agent writes the reason, then SIGTERM ends the run killed."""
    from wakelog.sdk._init import finish_all

    path = _trial_env(monkeypatch, tmp_path, {"lr": 0.1})
    run = wakelog.init(mode="offline")
    write_stop_reason(path, "sweep canceled")
    run_dir = Path(run.run_dir)
    finish_all(143, "killed", None)  # what the SDK's SIGTERM handler does
    assert _records(run_dir, "exit")[-1]["state"] == "killed"
    assert _records(run_dir, "metadata")[-1]["stopped_reason"] == "sweep canceled"


def test_parameter_files_read_wandbs_yaml_and_our_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "config-x.yaml"
    yaml_file.write_text("wandb_version: 1\nlr:\n  value: 0.01\nlayers:\n  value: [64, 32]\n")
    assert read_params(yaml_file) == {"lr": 0.01, "layers": [64, 32]}
    json_file = tmp_path / "config-y.json"
    write_params(json_file, {"nested": {"value": 1, "other": 2}})  # a parameter dict with a 'value' key
    assert read_params(json_file) == {"nested": {"value": 1, "other": 2}}
