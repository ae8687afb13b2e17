"""What bayes search learns from each trial: its metric value, or one imputed by wandb's rules.

wandb's ``metric.impute`` (``worst``, the default; ``best``; ``latest``) gives a value to every
trial that ended ``failed``, ``crashed`` or ``killed``, and to a ``finished`` one that logged no
value, so the search steers away from (or towards) what broke instead of forgetting it.
``metric.impute_while_running`` (off unless set) lets running trials count too: their value so far,
else the imputed one. The rules, as wandb's sweeps library defines them (read for facts only):

- ``best``: the trial's own best value (its minimum when minimising), else 0;
- ``latest``: the trial's last value, else 0;
- ``worst``: the worst value any ended trial reached (the largest when minimising), else 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wakelog.server.sweeps.search import Observed

if TYPE_CHECKING:
    from wakelog.server.sweeps.store import Trial

ENDED = ("finished", "failed", "crashed", "killed")
BROKEN = ("failed", "crashed", "killed")
#: wandb's value for a trial with nothing to impute from.
FALLBACK = 0.0


def observed(metric: dict[str, Any], trials: Sequence[Trial]) -> list[Observed]:
    """The (point, value) pairs bayes search is given, in the trials' order."""
    minimize = metric["goal"] != "maximize"
    strategy = str(metric.get("impute", "worst"))
    while_running = str(metric.get("impute_while_running", "false")).lower()
    worst = _worst(trials, minimize)
    out = []
    for trial in trials:
        if not trial.point:
            continue
        if trial.state in BROKEN or (trial.state == "finished" and trial.metric is None):
            value = _imputed(trial, strategy, minimize, worst)
        elif trial.state == "finished":
            value = trial.metric
        elif trial.state == "running" and while_running != "false":
            value = (
                trial.metric if trial.metric is not None else _imputed(trial, while_running, minimize, worst)
            )
        else:
            continue
        if value is not None:
            out.append(Observed(trial.point, value))
    return out


def _imputed(trial: Trial, strategy: str, minimize: bool, worst: float) -> float:
    if strategy == "worst":
        return worst
    if strategy == "best":
        low, high = trial.extremes
        best = low if minimize else high
        return FALLBACK if best is None else best
    return FALLBACK if trial.metric is None else trial.metric


def _worst(trials: Sequence[Trial], minimize: bool) -> float:
    """The worst value reached by any ended trial (each trial's worst extreme), else 0."""
    values = [t.extremes[1] if minimize else t.extremes[0] for t in trials if t.state in ENDED]
    found = [v for v in values if v is not None]
    if not found:
        return FALLBACK
    return max(found) if minimize else min(found)
