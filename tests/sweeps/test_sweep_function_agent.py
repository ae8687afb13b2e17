"""``wakelog.sweep`` and ``wakelog.agent(function=…)`` end to end against the real server, in process."""

from __future__ import annotations

import threading
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import pytest

import wakelog
from tests.sweeps.conftest import SweepServer
from wakelog import sweeps
from wakelog.sdk._sweep import TrialStopped
from wakelog.sweeps._agent import Agent, AgentOptions, AgentReport

GRID = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"values": [0.1, 0.01]}, "optimizer": {"values": ["adam", "sgd"]}},
}


def run_agent(sweep_id: str, function: Any, tmp_path: Path, count: int | None = None) -> AgentReport:
    """``wakelog.agent`` with a quick heartbeat, so that stops arrive within a fraction of a second."""
    client = sweeps.connect()
    try:
        path = sweeps.sweep_path(client, sweep_id)
        options = AgentOptions(count=count, heartbeat_interval=0.2, kill_grace=5.0, root_dir=tmp_path)
        return Agent(client, path, function, options).run()
    finally:
        client.close()


def test_a_grid_runs_each_point_once_with_locked_config(sweep_server: SweepServer, tmp_path: Path) -> None:
    sweep_id = wakelog.sweep(GRID, project="tune")
    seen: list[dict[str, Any]] = []

    def train() -> None:
        run = wakelog.init(config={"lr": 1.0, "epochs": 2})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            wakelog.config.update({"lr": 5.0})  # a script's accidental change: refused
        seen.append(
            {"id": run.id, "sweep_id": run.sweep_id, "config": wakelog.config.as_dict(), "warned": caught}
        )
        for step in range(3):
            wakelog.log({"loss": wakelog.config.lr * (3 - step)})

    report = wakelog.agent(sweep_id, function=train)

    assert sorted(report.outcomes.values()) == ["finished"] * 4
    assert sorted((s["config"]["lr"], s["config"]["optimizer"]) for s in seen) == [
        (0.01, "adam"),
        (0.01, "sgd"),
        (0.1, "adam"),
        (0.1, "sgd"),
    ]
    for trial in seen:
        assert trial["sweep_id"] == sweep_id and trial["config"]["epochs"] == 2
        assert "locked by 'sweep'" in str(trial["warned"][0].message)
    sweep = sweep_server.sweep(sweep_id)
    assert {t["run_id"] for t in sweep["trials"]} == {s["id"] for s in seen}
    for trial in seen:
        run = sweep_server.run_ends(trial["id"])
        assert run["state"] == "finished" and run["config"]["lr"] == trial["config"]["lr"]
    assert wakelog.run is None


def test_an_exception_fails_its_trial_and_the_agent_goes_on(
    sweep_server: SweepServer, tmp_path: Path
) -> None:
    sweep_id = wakelog.sweep({**GRID, "parameters": {"lr": {"values": [0.1, 0.2, 0.3]}}}, project="tune")

    def train() -> None:
        wakelog.init()
        wakelog.log({"loss": 1.0})
        if wakelog.config.lr == 0.2:
            raise RuntimeError("diverged")

    report = run_agent(sweep_id, train, tmp_path)
    outcomes = {
        sweep_server.run_ends(run_id)["config"]["lr"]: state for run_id, state in report.outcomes.items()
    }
    assert outcomes == {0.1: "finished", 0.2: "failed", 0.3: "finished"}
    failed = next(run_id for run_id, state in report.outcomes.items() if state == "failed")
    assert sweep_server.run(failed)["state"] == "failed"


def test_an_agent_gives_up_when_every_trial_fails(sweep_server: SweepServer, tmp_path: Path) -> None:
    sweep_id = wakelog.sweep(
        {"method": "random", "parameters": {"lr": {"min": 0.0, "max": 1.0}}}, project="tune"
    )

    def train() -> None:
        raise ValueError("bad script")

    report = run_agent(sweep_id, train, tmp_path)
    assert list(report.outcomes.values()) == ["failed"] * 3  # wandb's flapping rule: 3 in the first minute
    assert "failed" in report.reason


def test_count_limits_the_trials(sweep_server: SweepServer, tmp_path: Path) -> None:
    sweep_id = wakelog.sweep(
        {"method": "random", "parameters": {"lr": {"min": 0.0, "max": 1.0}}}, project="tune"
    )
    report = wakelog.agent(sweep_id, function=wakelog.init, count=2)
    assert list(report.outcomes.values()) == ["finished", "finished"]


def _train_until_stopped(
    started: threading.Event, deadline: float = 90.0, raised_in: list[str] | None = None
) -> None:
    """A training loop that would run for ``deadline`` seconds unless the sweep stops it; records
    in ``raised_in`` the function that raised the stop."""
    wakelog.init()
    started.set()
    end = time.monotonic() + deadline
    step = 0
    try:
        while time.monotonic() < end:
            wakelog.log({"loss": 10.0 + step})
            step += 1
            time.sleep(0.02)  # a training step's work
    except TrialStopped as stop:
        if raised_in is not None:
            raised_in.append(traceback.extract_tb(stop.__traceback__)[-1].name)
        raise


def test_cancel_stops_a_running_function_and_its_run_ends_killed(
    sweep_server: SweepServer, tmp_path: Path
) -> None:
    sweep_id = wakelog.sweep(GRID, project="tune")
    started = threading.Event()

    def cancel_once_started() -> None:
        if started.wait(60):
            sweeps.control(sweep_id, "cancel")

    canceller = threading.Thread(target=cancel_once_started)
    canceller.start()
    raised_in: list[str] = []
    report = run_agent(sweep_id, lambda: _train_until_stopped(started, raised_in=raised_in), tmp_path)
    canceller.join()
    # A logging loop is stopped at log()'s safe point, never by an exception landing inside wakelog.
    assert raised_in == ["_raise_stopped"]

    ((run_id, outcome),) = report.outcomes.items()  # canceled: no second trial
    assert outcome == "killed"
    run = sweep_server.run_ends(run_id)
    assert run["state"] == "killed"
    assert run["metadata"]["stopped_reason"] == "sweep canceled"
    assert run["metadata"]["sweep_id"] == sweep_id


def test_a_function_that_stops_logging_is_interrupted_in_its_own_code(
    sweep_server: SweepServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long evaluation never reaches a ``log()``: after the grace the stop is raised in the
    function's thread, in its own code, and the run still ends killed."""
    monkeypatch.setattr("wakelog.sweeps._trial.ASYNC_GRACE", 0.5)
    sweep_id = wakelog.sweep(GRID, project="tune")
    started = threading.Event()
    raised_in: list[str] = []

    def evaluate_for_long() -> None:
        wakelog.init()
        wakelog.log({"loss": 1.0})
        started.set()
        end = time.monotonic() + 90
        try:
            while time.monotonic() < end:  # no log(): only the in-thread exception can stop it
                time.sleep(0.02)
        except TrialStopped as stop:
            raised_in.append(traceback.extract_tb(stop.__traceback__)[-1].name)
            raise

    def cancel_once_started() -> None:
        if started.wait(60):
            sweeps.control(sweep_id, "cancel")

    canceller = threading.Thread(target=cancel_once_started)
    canceller.start()
    report = run_agent(sweep_id, evaluate_for_long, tmp_path)
    canceller.join()
    assert raised_in == ["evaluate_for_long"]
    ((run_id, outcome),) = report.outcomes.items()
    assert outcome == "killed"
    run = sweep_server.run_ends(run_id)
    assert run["state"] == "killed" and run["metadata"]["stopped_reason"] == "sweep canceled"


def test_hyperband_cuts_a_weak_function_trial(sweep_server: SweepServer, tmp_path: Path) -> None:
    config = {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"quality": {"values": [0.1, 0.2, 5.0]}},
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
    }
    sweep_id = wakelog.sweep(config, project="tune")

    def train() -> None:
        wakelog.init()
        quality = wakelog.config.quality
        if quality < 1:
            for _ in range(4):
                wakelog.log({"loss": quality})
            return
        # The weak trial reaches the first band (2 values) and no further, so the server compares
        # it there with the others whenever their histories arrive; then it would go on for long.
        for _ in range(3):
            wakelog.log({"loss": quality})
        end = time.monotonic() + 90
        while time.monotonic() < end:  # the server cuts it: the stop lands in log() (no new row)
            wakelog.log({"loss": quality}, commit=False)
            time.sleep(0.05)

    report = run_agent(sweep_id, train, tmp_path)
    states = {sweep_server.run_ends(r)["config"]["quality"]: (s, r) for r, s in report.outcomes.items()}
    assert [states[q][0] for q in (0.1, 0.2, 5.0)] == ["finished", "finished", "killed"]
    cut = sweep_server.run(states[5.0][1])
    assert cut["state"] == "killed" and cut["metadata"]["stopped_reason"].startswith("hyperband")


def test_a_bad_configuration_is_refused_with_the_key_named(sweep_server: SweepServer) -> None:
    bad = {**GRID, "parameters": {"lr": {"distribution": "log_uniformm", "min": 0.1, "max": 1}}}
    with pytest.raises(sweeps.SweepConfigError, match=r"parameters\.lr\.distribution") as refused:
        wakelog.sweep(bad, project="tune")
    assert refused.value.details and refused.value.details[0]["key"].startswith("parameters.lr")
    assert isinstance(refused.value, wakelog.UsageError)
