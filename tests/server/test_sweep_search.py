"""The search space and the three searches: grid exactly once, random as wandb defines each
distribution, bayes through Optuna's TPE."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
from scipy import stats

from wakelog.server.sweeps import search
from wakelog.server.sweeps import space as sp
from wakelog.server.sweeps.config import normalise


def _param(**spec: object) -> sp.Param:
    config = normalise({"method": "random", "parameters": {"x": spec}})
    return sp.params(config["parameters"])[0]


def test_grid_walks_every_nested_combination_once() -> None:
    config = normalise(
        {
            "method": "grid",
            "parameters": {
                "lr": {"values": [0.1, 0.01]},
                "layers": {"distribution": "int_uniform", "min": 1, "max": 3},
                "opt": {"parameters": {"name": {"values": ["adam", "sgd"]}, "eps": {"value": 1e-8}}},
                "drop": {"distribution": "q_uniform", "min": 0.0, "max": 0.5, "q": 0.25},
            },
        }
    )
    space = sp.params(config["parameters"])
    size = sp.grid_size(space)
    assert size == 2 * 3 * 2 * 2  # q_uniform: 0.0, 0.25 (max excluded, as numpy's arange)
    points = [search.grid(config, i).params for i in range(size)]
    seen = {(p["lr"], p["layers"], p["opt"]["name"], p["drop"]) for p in points}
    assert seen == set(itertools.product([0.1, 0.01], [1, 2, 3], ["adam", "sgd"], [0.0, 0.25]))
    assert all(p["opt"]["eps"] == 1e-8 for p in points)


@pytest.mark.parametrize(
    ("spec", "wandb_ppf"),
    [
        ({"distribution": "uniform", "min": -1.0, "max": 3.0}, lambda u: stats.uniform.ppf(u, -1, 4)),
        (
            {"distribution": "log_uniform", "min": -4.0, "max": 1.0},
            lambda u: math.exp(stats.uniform.ppf(u, -4, 5)),
        ),
        (
            {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
            lambda u: math.exp(stats.uniform.ppf(u, math.log(1e-4), math.log(1e-1) - math.log(1e-4))),
        ),
        (
            {"distribution": "inv_log_uniform", "min": 0.0, "max": 4.0},
            lambda u: math.exp(-stats.uniform.ppf(1 - u, 0, 4)),
        ),
        (
            {"distribution": "inv_log_uniform_values", "min": 0.01, "max": 1.0},
            lambda u: math.exp(-stats.uniform.ppf(1 - u, 0, -math.log(0.01))),
        ),
        ({"distribution": "normal", "mu": 1.0, "sigma": 2.0}, lambda u: stats.norm.ppf(u, 1, 2)),
        (
            {"distribution": "log_normal", "mu": 0.5, "sigma": 0.3},
            lambda u: stats.lognorm.ppf(u, s=0.3, scale=math.exp(0.5)),
        ),
        ({"distribution": "beta", "a": 2.0, "b": 5.0}, lambda u: stats.beta.ppf(u, 2, 5)),
        (
            {"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25},
            lambda u: round(stats.uniform.ppf(u, 0, 1) / 0.25) * 0.25,
        ),
        (
            {"distribution": "q_normal", "mu": 0.0, "sigma": 10.0, "q": 2},
            lambda u: round(stats.norm.ppf(u, 0, 10) / 2) * 2,
        ),
        (
            {"distribution": "q_log_uniform_values", "min": 16.0, "max": 512.0, "q": 16},
            lambda u: round(math.exp(stats.uniform.ppf(u, math.log(16), math.log(32))) / 16) * 16,
        ),
        (
            {"distribution": "q_log_normal", "mu": 3.0, "sigma": 1.0, "q": 1},
            lambda u: round(stats.lognorm.ppf(u, s=1.0, scale=math.exp(3.0))),
        ),
        (
            {"distribution": "q_beta", "a": 2.0, "b": 2.0, "q": 0.1},
            lambda u: round(stats.beta.ppf(u, 2, 2) / 0.1) * 0.1,
        ),
    ],
)
def test_continuous_values_are_wandbs_inverse_cdfs(spec: dict, wandb_ppf: object) -> None:
    param = _param(**spec)
    for u in (0.01, 0.2, 0.5, 0.77, 0.99):
        got = sp.decode(param, sp.draw(param, u))
        assert got == pytest.approx(wandb_ppf(u), rel=1e-9, abs=1e-12), (spec, u)  # type: ignore[operator]
        if isinstance(spec.get("q"), int):
            assert isinstance(got, int), "an integer q gives integers"


def test_discrete_draws_follow_their_probabilities() -> None:
    weighted = _param(values=["small", "large"], probabilities=[0.25, 0.75])
    counts = Counter(sp.decode(weighted, sp.draw(weighted, (i + 0.5) / 1000)) for i in range(1000))
    assert counts == {"small": 250, "large": 750}
    dice = _param(min=1, max=6)
    assert Counter(sp.decode(dice, sp.draw(dice, (i + 0.5) / 600)) for i in range(600)) == {
        n: 100 for n in range(1, 7)
    }
    choice = _param(values=[[1, 2], {"a": 1}, None])
    assert [sp.decode(choice, sp.draw(choice, u)) for u in (0.1, 0.5, 0.9)] == [[1, 2], {"a": 1}, None]


def test_random_search_is_a_function_of_seed_and_trial_number() -> None:
    config = normalise(
        (
            __import__("pathlib").Path(__file__).parent / "sweep_configs" / "every_distribution.yaml"
        ).read_text()
    )
    first = [search.random_point(config, 7, seq) for seq in range(50)]
    assert first == [search.random_point(config, 7, seq) for seq in range(50)]
    assert first != [search.random_point(config, 8, seq) for seq in range(50)]
    for suggestion in first:
        p = suggestion.params
        assert p["constant"] == 7 and 1 <= p["int_uniform"] <= 6 and -1 <= p["uniform"] <= 1
        assert 0.001 <= p["log_uniform_values"] <= 1 and p["q_log_uniform_values"] % 16 == 0
        assert p["q_uniform"] in (0.0, 0.25, 0.5, 0.75, 1.0) and 0 <= p["beta"] <= 1


def test_bayes_learns_where_the_metric_is_low() -> None:
    config = normalise(
        {
            "method": "bayes",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {
                "x": {"min": -5.0, "max": 5.0},
                "kind": {"values": ["good", "bad"]},
                "n": {"min": 1, "max": 10},
            },
        }
    )

    def loss(params: dict) -> float:
        return (params["x"] - 1.0) ** 2 + (0.0 if params["kind"] == "good" else 10.0) + params["n"] * 0.01

    observed: list[search.Observed] = []
    for seq in range(40):
        suggestion = search.bayes(config, 3, seq, observed)
        assert -5 <= suggestion.params["x"] <= 5 and 1 <= suggestion.params["n"] <= 10
        observed.append(search.Observed(suggestion.point, loss(suggestion.params)))
    late = [search.bayes(config, 3, 100 + i, observed).params for i in range(10)]
    assert sum(p["kind"] == "good" for p in late) >= 7, late
    blind = [search.random_point(config, 3, 100 + i).params for i in range(10)]
    assert sum(map(loss, late)) < 0.5 * sum(map(loss, blind)), (late, blind)
    again = search.bayes(config, 3, 123, observed)
    assert again == search.bayes(config, 3, 123, observed), "the same stored trials, the same suggestion"
