"""A run started by a sweep agent: its parameters, its sweep id, and why it was stopped.

The agent (``wakelog/sweeps/``) hands a trial to the run through the environment, in wandb's
spellings too: ``WAKELOG_SWEEP_ID``, ``WAKELOG_RUN_ID`` and ``WAKELOG_SWEEP_PARAM_PATH`` (the
settings ``sweep_id``, ``run_id`` and ``sweep_param_path``). The parameter file is JSON in wandb's
shape, ``{"lr": {"value": 0.01}, …}`` (JSON is YAML, so wandb's own readers take it too).

When the server stops a trial (hyperband, a canceled sweep), the agent writes the reason into the
file ``stop_file(param_path)`` names and sends SIGTERM (subprocess mode), or tells the run directly
(function mode, ``Run._request_stop``); either way the run ends ``killed`` with
``metadata.stopped_reason``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wakelog._warn import warn
from wakelog.errors import Error


class TrialStopped(Error):
    """Raised inside a sweep function whose trial the server stopped (hyperband, a canceled sweep)."""


def stop_file(param_path: str | Path) -> Path:
    """Where the agent writes why it stopped the trial whose parameters are at ``param_path``."""
    path = Path(param_path)
    return path.with_name(path.stem + ".stop.json")


def write_params(path: Path, params: dict[str, Any]) -> None:
    """The parameter file for one trial, in wandb's ``{name: {"value": v}}`` shape."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapped = {name: {"value": value} for name, value in params.items()}
    path.write_text(json.dumps(wrapped, indent=1), encoding="utf-8")


def read_params(path: str | Path) -> dict[str, Any]:
    """A trial's parameters from its file (JSON or wandb's YAML), unwrapped; {} with a warning if
    the file cannot be read (the run goes on with its own config)."""
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        warn(f"wakelog: cannot read the sweep parameters in {path}: {exc}", RuntimeWarning)
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {
        str(name): value["value"] if isinstance(value, dict) and "value" in value else value
        for name, value in loaded.items()
        if name != "wandb_version"
    }


def read_stop_reason(param_path: str | None) -> str | None:
    """The reason the agent gave for stopping this trial, if it did."""
    if not param_path:
        return None
    try:
        answer = json.loads(stop_file(param_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    reason = answer.get("reason") if isinstance(answer, dict) else None
    return str(reason) if reason else None


def write_stop_reason(param_path: str | Path, reason: str) -> None:
    stop_file(param_path).write_text(json.dumps({"reason": reason}), encoding="utf-8")
