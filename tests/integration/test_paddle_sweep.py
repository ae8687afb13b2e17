"""The Paddle sweep example (examples/paddle/sweep_digits.py/.yaml): a tiny real sweep on the CPU."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import wakelog
from tests.sweeps.conftest import SweepServer, serve_sweeps

pytest.importorskip("paddle")
pytest.importorskip("sklearn")
pytestmark = [pytest.mark.paddle, pytest.mark.slow]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "paddle"


@pytest.fixture
def sweep_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SweepServer]:
    yield from serve_sweeps(tmp_path, monkeypatch)


def test_two_trials_of_the_digits_sweep_train_and_report(sweep_server: SweepServer) -> None:
    from wakelog.demo.sweep_digits import train

    config = yaml.safe_load((EXAMPLES / "sweep_digits.yaml").read_text())
    assert config["metric"] == {"name": "eval/acc", "goal": "maximize"}
    config["method"] = "random"  # two quick trials: one epoch, no early termination
    config["parameters"]["epochs"] = {"value": 1}
    config.pop("early_terminate")
    sweep_id = wakelog.sweep(config, project="tune")

    report = wakelog.agent(sweep_id, function=train, count=2)

    assert list(report.outcomes.values()) == ["finished", "finished"]
    for run_id in report.outcomes:
        run = sweep_server.run_ends(run_id)
        assert run["state"] == "finished" and run["config"]["epochs"] == 1
        assert run["config"]["optimizer"] in ("adam", "momentum", "sgd")
        assert 3e-4 <= run["config"]["lr"] <= 3e-2 and run["config"]["batch_size"] in (32, 64, 128)
        assert 0 <= run["summary"]["eval/acc"] <= 1
    trials = sweep_server.sweep(sweep_id)["trials"]
    assert all(t["metric"] is not None for t in trials)
