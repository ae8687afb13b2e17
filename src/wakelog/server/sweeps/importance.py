"""How much each parameter matters to the sweep's metric: Optuna's fANOVA importance (a random
forest of scikit-learn's, decomposed by variance) and the Pearson correlation.

Parameters are read from the finished trials' values, so it works the same for every method.
Numbers are modelled as numbers; anything else (strings, booleans, lists) as categories. A
parameter with one value among the trials explains nothing and is left out.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from wakelog.server.sweeps import space as sp

#: fANOVA needs a few trials to say anything.
MIN_TRIALS = 3


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def importance(
    parameters: dict[str, Any], observed: list[tuple[dict[str, Any], float]], goal: str
) -> list[dict[str, Any]]:
    """``[{param, importance, correlation}]`` most important first; ``observed`` holds each
    finished trial's (nested params, metric value)."""
    if len(observed) < MIN_TRIALS:
        return []
    space = [p for p in sp.params(parameters) if sp.is_searched(p)]
    columns = {p.key: [sp.flatten(params, [p]).get(p.key) for params, _ in observed] for p in space}
    metric = np.array([value for _, value in observed], dtype=float)
    names = {p.key: p.name for p in space}
    varied = {key: column for key, column in columns.items() if len({_token(v) for v in column}) > 1}
    if not varied:
        return []
    scores = _fanova(varied, metric, goal)
    out = [
        {"param": names[key], "importance": scores.get(key, 0.0), "correlation": _pearson(column, metric)}
        for key, column in varied.items()
    ]
    return sorted(out, key=lambda row: -row["importance"])


def _token(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _pearson(column: list[Any], metric: np.ndarray) -> float | None:
    if not all(_is_number(v) for v in column):
        return None
    x = np.array(column, dtype=float)
    if x.std() == 0 or metric.std() == 0:
        return None
    return float(np.corrcoef(x, metric)[0, 1])


def _fanova(columns: dict[str, list[Any]], metric: np.ndarray, goal: str) -> dict[str, float]:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions: dict[str, Any] = {}
    encoded: dict[str, list[Any]] = {}
    for key, column in columns.items():
        if all(_is_number(v) for v in column):
            distributions[key] = FloatDistribution(float(min(column)), float(max(column)))
            encoded[key] = [float(v) for v in column]
        else:
            tokens = sorted({_token(v) for v in column})
            distributions[key] = CategoricalDistribution(tokens)
            encoded[key] = [_token(v) for v in column]
    study = optuna.create_study(direction="maximize" if goal == "maximize" else "minimize")
    study.add_trials(
        [
            optuna.trial.create_trial(
                params={key: encoded[key][i] for key in columns},
                distributions=distributions,
                value=float(value),
            )
            for i, value in enumerate(metric)
        ]
    )
    scores = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0), normalize=True)
    return {key: float(value) for key, value in scores.items()}
