"""Sweep configurations written the way wandb's documentation shows them run unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

import wakelog
from tests.sweeps.conftest import SweepServer

CONFIGS = {
    "bayes with nested parameters and hyperband": """
program: train.py
method: bayes
metric:
  name: validation_loss
  goal: minimize
parameters:
  learning_rate:
    distribution: log_uniform_values
    min: 0.0001
    max: 0.1
  optimizer:
    values: ["adam", "sgd"]
  model:
    parameters:
      layers:
        values: [2, 4]
      dropout:
        distribution: uniform
        min: 0.1
        max: 0.5
early_terminate:
  type: hyperband
  min_iter: 3
""",
    "random with probabilities and q distributions": """
method: random
metric:
  goal: maximize
  name: val_acc
parameters:
  batch_size:
    distribution: q_log_uniform_values
    q: 8
    min: 32
    max: 256
  epochs:
    value: 3
  activation:
    values: [relu, gelu, tanh]
    probabilities: [0.5, 0.3, 0.2]
  weight_decay:
    distribution: normal
    mu: 0.0005
    sigma: 0.0001
  hidden:
    distribution: int_uniform
    min: 16
    max: 64
run_cap: 5
""",
    "grid with a command and max_iter hyperband": """
name: grid-example
description: every combination once
program: train.py
command:
  - ${env}
  - ${interpreter}
  - ${program}
  - ${args_no_hyphens}
method: grid
metric:
  name: loss
parameters:
  lr:
    values: [0.1, 0.01, 0.001]
  momentum:
    value: 0.9
early_terminate:
  type: hyperband
  max_iter: 27
  s: 2
  eta: 3
""",
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_wandbs_configurations_run_unchanged(name: str, sweep_server: SweepServer, tmp_path: Path) -> None:
    sweep_id = wakelog.sweep(CONFIGS[name], project="tune")
    seen = []

    def train() -> None:
        wakelog.init()
        seen.append(wakelog.config.as_dict())
        wakelog.log({"loss": 1.0, "validation_loss": 1.0, "val_acc": 0.5})

    report = wakelog.agent(sweep_id, function=train, count=1)
    assert list(report.outcomes.values()) == ["finished"]
    sweep = sweep_server.sweep(sweep_id)
    assert sweep["yaml"].strip() == CONFIGS[name].strip()
    top = {key for key in sweep["config"]["parameters"]}
    assert top <= set(seen[0]), (top, seen[0])


def test_a_yaml_file_path_works_too(sweep_server: SweepServer, tmp_path: Path) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(CONFIGS["grid with a command and max_iter hyperband"])
    sweep_id = wakelog.sweep(str(path), project="tune")
    assert sweep_server.sweep(sweep_id)["method"] == "grid"
