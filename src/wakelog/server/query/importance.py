"""How much each parameter matters to a metric: Optuna's fANOVA importance (a random forest of
scikit-learn's, decomposed by variance) and the Pearson correlation.

One core for a sweep's trials (``sweeps/importance``) and a project's runs
(``query/project_importance``): both hand it one column of values per parameter and the metric's
value per row. Numbers are modelled as numbers; anything else (strings, booleans, lists) as
categories. A missing value (``None``: a key some runs lack) is a category of its own, and in a
column of numbers a value below all of them, so the forest can still split it off; the correlation
is over the rows that have a number. A parameter with one value among the rows explains nothing and
is left out, and so is one with more than ``MAX_CATEGORIES`` categories (an output path or a seed
string: a value per run explains nothing a run id would not).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

#: fANOVA needs a few rows to say anything.
MIN_ROWS = 3
MAX_CATEGORIES = 100
#: The forest fANOVA fits. Optuna's defaults (64 trees of depth 64) take ~40 s on 1,000 runs × 20
#: parameters on a 2-core box; 32 trees of depth 6 take under a second and rank the same way
#: (``bench/server_query.py --part importance``).
FANOVA_TREES = 32
FANOVA_DEPTH = 6


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def rank(columns: dict[str, list[Any]], metric: list[float], goal: str = "minimize") -> list[dict[str, Any]]:
    """``[{param, importance, correlation}]`` most important first; ``columns`` holds each
    parameter's value per row, ``metric`` the metric's value per row."""
    if len(metric) < MIN_ROWS:
        return []
    values = _scaled(np.array(metric, dtype=float))
    varied = {key: column for key, column in columns.items() if _rateable(column)}
    if not varied:
        return []
    # fANOVA needs the metric to vary (optuna raises when every tree's variance is 0)
    scores = _fanova(varied, values, goal) if values.min() < values.max() else {}
    out = [
        {"param": key, "importance": scores.get(key, 0.0), "correlation": _pearson(column, values)}
        for key, column in varied.items()
    ]
    return sorted(out, key=lambda row: (-row["importance"], row["param"]))


def _scaled(values: np.ndarray) -> np.ndarray:
    """``values`` (at least one) times the power of two that brings the largest magnitude into
    [0.5, 1): fANOVA and the correlation square their deviations, which overflow past ±1e154 and
    vanish under ±1e-154 (0 and 7e-253 had no variance: fANOVA raised, found by the property
    test), and neither changes under the scaling."""
    largest = float(np.abs(values).max())
    return np.ldexp(values, -np.frexp(largest)[1]) if largest > 0.0 else values


def _rateable(column: list[Any]) -> bool:
    distinct = {_token(v) for v in column}
    if len(distinct) < 2:
        return False
    return _numeric(column) or len(distinct) <= MAX_CATEGORIES


def _numeric(column: list[Any]) -> bool:
    """Numbers, some perhaps missing."""
    return all(v is None or is_number(v) for v in column) and any(v is not None for v in column)


def _token(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _pearson(column: list[Any], metric: np.ndarray) -> float | None:
    if not _numeric(column):
        return None
    present = np.array([v is not None for v in column])
    if present.sum() < 2:
        return None
    x = _scaled(np.array([v for v in column if v is not None], dtype=float))  # a config of 1e200
    y = _scaled(metric[present])
    if x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _fanova(columns: dict[str, list[Any]], metric: np.ndarray, goal: str) -> dict[str, float]:
    import optuna
    from optuna.distributions import CategoricalDistribution
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions: dict[str, Any] = {}
    encoded: dict[str, list[Any]] = {}
    for key, column in columns.items():
        if _numeric(column):
            distributions[key], encoded[key] = _unit_scaled(column)
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
    evaluator = FanovaImportanceEvaluator(n_trees=FANOVA_TREES, max_depth=FANOVA_DEPTH, seed=0)
    scores = get_param_importances(study, evaluator=evaluator, normalize=True)
    return {key: float(value) for key, value in scores.items()}


def _unit_scaled(column: list[Any]) -> tuple[Any, list[float]]:
    """A column of numbers (some perhaps missing) as fANOVA gets it: scaled onto [0, 1], a missing
    value at -1 (below every number: a split of its own), and its distribution. scikit-learn's trees
    split in float32, where numbers as close as 16,777,216 and 16,777,217 are one number (found by
    the property test); fANOVA's shares do not change under the scaling. Halves first: the span of
    two finite floats may overflow."""
    from optuna.distributions import FloatDistribution

    numbers = [float(v) for v in column if v is not None]
    low, high = min(numbers), max(numbers)
    span = high / 2 - low / 2 or 0.5  # one number and missing ones: the number at 0, missing at -1
    scaled = [-1.0 if v is None else (float(v) / 2 - low / 2) / span for v in column]
    bottom = -1.0 if len(numbers) < len(column) else 0.0
    return FloatDistribution(bottom, 1.0 if high > low else 0.0), scaled
