"""Choosing the next trial's parameters: grid, random, or bayes with Optuna's TPE sampler.

Every choice is a pure function of what the database holds (the configuration, the sweep's seed,
the trial's sequence number and, for bayes, the finished trials' points and metric values), so
any replica answers the same and a restarted server has lost nothing. Bayes rebuilds an in-memory
Optuna study from the finished trials for every suggestion: 200 trials take a few milliseconds to
add, and the study is never stale (bench/sweeps.py measures it).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wakelog.server.sweeps import space as sp

#: Bayes search draws its first trials at random, like TPE's own start-up (then TPE models them).
STARTUP_TRIALS = 10


@dataclass(frozen=True)
class Suggestion:
    params: dict[str, Any]  # nested, as the run's config gets them
    point: dict[str, Any]  # by flat key (space.py)


@dataclass(frozen=True)
class Observed:
    """A finished trial as bayes search learns from it."""

    point: dict[str, Any]
    value: float


def grid(config: dict[str, Any], seq: int) -> Suggestion:
    space = sp.params(config["parameters"])
    return Suggestion(sp.grid_point(space, seq), {"grid": seq})


def random_point(config: dict[str, Any], seed: int, seq: int) -> Suggestion:
    """The ``seq``-th random trial of the sweep seeded ``seed``: the same on every replica."""
    space = sp.params(config["parameters"])
    rng = random.Random(f"{seed}:{seq}")
    point = {p.key: sp.draw(p, rng.random()) for p in space if sp.is_searched(p)}
    return Suggestion(sp.values(space, point), point)


def bayes(config: dict[str, Any], seed: int, seq: int, observed: Sequence[Observed]) -> Suggestion:
    """TPE's suggestion given the finished trials (random until there are ``STARTUP_TRIALS``)."""
    if len(observed) < STARTUP_TRIALS:
        return random_point(config, seed, seq)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = sp.params(config["parameters"])
    distributions = {p.key: _distribution(p) for p in space if sp.is_searched(p)}
    direction = "maximize" if config["metric"]["goal"] == "maximize" else "minimize"
    sampler = optuna.samplers.TPESampler(seed=(seed + seq) % 2**32, n_startup_trials=STARTUP_TRIALS)
    study = optuna.create_study(direction=direction, sampler=sampler)
    study.add_trials(
        [
            optuna.trial.create_trial(
                params=_clip(o.point, distributions), distributions=distributions, value=o.value
            )
            for o in observed
            if distributions.keys() <= o.point.keys()
        ]
    )
    point = study.ask(distributions).params
    return Suggestion(sp.values(space, point), point)


def _distribution(param: sp.Param) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    spec = param.spec
    if param.distribution.startswith("categorical"):
        return CategoricalDistribution(list(range(len(spec["values"]))))
    if param.distribution == "int_uniform":
        return IntDistribution(spec["min"], spec["max"])
    return FloatDistribution(sp.U_EDGE, 1 - sp.U_EDGE)


def _clip(point: dict[str, Any], distributions: dict[str, Any]) -> dict[str, Any]:
    """Only the searched keys: a point of a trial made before is kept as it was stored."""
    return {key: point[key] for key in distributions}
