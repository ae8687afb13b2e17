"""wandb sweep configurations: accepted unchanged, normalised, refused with the key named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from wakelog.server.sweeps.config import DISTRIBUTIONS, SweepConfigError, normalise

EXAMPLES = sorted((Path(__file__).parent / "sweep_configs").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_wandb_documentation_examples_are_accepted_unchanged(path: Path) -> None:
    text = path.read_text()
    from_yaml = normalise(text)
    assert from_yaml == normalise(yaml.safe_load(text)), "YAML text and the parsed dict read alike"
    assert normalise(from_yaml) == from_yaml, "normalising is idempotent"


def test_distributions_are_inferred_and_defaults_filled_as_wandb_does() -> None:
    got = normalise((EXAMPLES[0].parent / "quickstart_bayes.yaml").read_text())
    assert got["metric"] == {"name": "validation_loss", "goal": "minimize"}
    assert got["parameters"]["lr"] == {"distribution": "uniform", "min": 0.0001, "max": 0.1}
    assert got["parameters"]["epochs"] == {"distribution": "categorical", "values": [5, 10, 15]}
    every = normalise((EXAMPLES[0].parent / "every_distribution.yaml").read_text())["parameters"]
    assert set(every) == set(DISTRIBUTIONS) - {"categorical_w_probabilities"} | {"weighted"}
    assert every["weighted"]["distribution"] == "categorical_w_probabilities"
    assert normalise({"method": "random", "parameters": {"n": {"min": 1, "max": 5}}})["parameters"]["n"] == {
        "distribution": "int_uniform",
        "min": 1,
        "max": 5,
    }
    defaults = normalise({"method": "random", "parameters": {"x": {"distribution": "q_log_normal"}}})
    assert defaults["parameters"]["x"] == {"distribution": "q_log_normal", "mu": 0.0, "sigma": 1.0, "q": 1.0}
    hb = normalise(
        {
            "method": "random",
            "metric": {"name": "l"},
            "parameters": {"x": {"value": 1}},
            "early_terminate": {"type": "hyperband", "min_iter": 2},
        }
    )
    assert hb["early_terminate"] == {"type": "hyperband", "min_iter": 2, "eta": 3, "strict": True}
    nested = normalise((EXAMPLES[0].parent / "nested.yaml").read_text())["parameters"]
    assert nested["optimizer"]["parameters"]["momentum"] == {
        "distribution": "uniform",
        "min": 0.5,
        "max": 0.9,
    }


def _problems(config: Any) -> list[tuple[str, str]]:
    with pytest.raises(SweepConfigError) as caught:
        normalise(config)
    return caught.value.problems


def _random(**params: Any) -> dict[str, Any]:
    return {"method": "random", "parameters": params}


@pytest.mark.parametrize(
    ("config", "key", "fragment"),
    [
        ({"parameters": {"x": {"value": 1}}}, "method", "required"),
        ({"method": "custom", "parameters": {"x": {"value": 1}}}, "method", "Launch"),
        (
            {"method": "bayes", "parameters": {"x": {"values": [1, 2]}}},
            "metric",
            "bayes search needs a metric",
        ),
        ({"method": "grid"}, "parameters", "required"),
        ({"method": "grid", "parameters": {}}, "parameters", "non-empty"),
        ({"method": "grid", "parametrs": {}, "parameters": {"x": {"value": 1}}}, "parametrs", "unknown key"),
        (
            _random(lr={"distribution": "log_uniformm", "min": 0, "max": 1}),
            "parameters.lr.distribution",
            "unknown distribution 'log_uniformm'",
        ),
        (_random(lr={"min": 1.0}), "parameters.lr", "give value, values"),
        (_random(lr={"min": 2.0, "max": 1.0}), "parameters.lr.min", "not less than max"),
        (
            _random(lr={"distribution": "log_uniform_values", "min": 0, "max": 1}),
            "parameters.lr.min",
            "above 0",
        ),
        (_random(n={"distribution": "int_uniform", "min": 1.5, "max": 3}), "parameters.n.min", "integers"),
        (_random(x={"values": []}), "parameters.x.values", "non-empty list"),
        (_random(x={"values": [1, 2], "probabilities": [0.5]}), "parameters.x.probabilities", "one each"),
        (
            _random(x={"values": [1, 2], "probabilities": [0.5, 0.6]}),
            "parameters.x.probabilities",
            "sum to 1",
        ),
        (_random(x={"distribution": "normal", "sigma": 0}), "parameters.x.sigma", "above 0"),
        (
            _random(x={"distribution": "q_uniform", "min": 0, "max": 1, "q": "a"}),
            "parameters.x.q",
            "finite number",
        ),
        (_random(x={"distribution": "uniform", "min": 0, "max": 1, "mu": 3}), "parameters.x.mu", "not a key"),
        (_random(**{"2x": {"value": 1}}), "parameters.2x", "parameter name"),
        (
            _random(opt={"parameters": {"lr": {"distribution": "bogus"}}}),
            "parameters.opt.parameters.lr.distribution",
            "unknown distribution",
        ),
        (
            _random(opt={"parameters": {"lr": {"value": 1}}, "value": 2}),
            "parameters.opt.value",
            "only 'parameters'",
        ),
        (
            {"method": "grid", "parameters": {"x": {"distribution": "uniform", "min": 0, "max": 1}}},
            "parameters.x.distribution",
            "grid search cannot enumerate uniform",
        ),
        (
            {**_random(x={"value": 1}), "early_terminate": {"type": "hyperband", "min_iter": 3}},
            "metric",
            "early termination needs a metric",
        ),
        (
            {**_random(x={"value": 1}), "metric": {"name": "l"}, "early_terminate": {"type": "hyperband"}},
            "early_terminate",
            "min_iter, or max_iter and s",
        ),
        (
            {
                **_random(x={"value": 1}),
                "metric": {"name": "l"},
                "early_terminate": {"type": "median", "min_iter": 1},
            },
            "early_terminate.type",
            "hyperband",
        ),
        (
            {
                **_random(x={"value": 1}),
                "metric": {"name": "l"},
                "early_terminate": {"type": "hyperband", "min_iter": 0},
            },
            "early_terminate.min_iter",
            "at least 1",
        ),
        (
            {
                **_random(x={"value": 1}),
                "metric": {"name": "l"},
                "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 1},
            },
            "early_terminate.eta",
            "above 1",
        ),
        (
            {**_random(x={"value": 1}), "metric": {"name": "l", "goal": "minimise"}},
            "metric.goal",
            "minimize or",
        ),
        ({**_random(x={"value": 1}), "metric": {"goal": "minimize"}}, "metric.name", "required"),
        ({**_random(x={"value": 1}), "run_cap": 0}, "run_cap", "at least 1"),
        (
            {**_random(x={"value": 1}), "command": ["${interpreter}", "${prog}"]},
            "command[1]",
            "unknown macro ${prog}",
        ),
        ({**_random(x={"value": 1}), "command": "python train.py"}, "command", "list of words"),
        ({**_random(x={"value": 1}), "program": 3}, "program", "text"),
    ],
)
def test_a_bad_configuration_names_the_offending_key(config: dict[str, Any], key: str, fragment: str) -> None:
    problems = _problems(config)
    assert any(k == key and fragment in message for k, message in problems), problems


def test_every_problem_is_listed_and_the_message_joins_them() -> None:
    config = _random(a={"distribution": "nope"}, b={"min": 3, "max": 1})
    with pytest.raises(SweepConfigError) as caught:
        normalise(config)
    assert [key for key, _ in caught.value.problems] == ["parameters.a.distribution", "parameters.b.min"]
    assert str(caught.value).startswith(
        "parameters.a.distribution: unknown distribution 'nope'; parameters.b.min:"
    )


def test_yaml_that_does_not_parse_or_explodes_is_refused() -> None:
    assert "not valid YAML at line 3" in _problems("method: grid\nparameters: [\n")[0][1]
    assert "a mapping" in _problems("- just\n- a list\n")[0][1]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    assert "too large" in _problems(bomb)[0][1]


# -- the normaliser, on generated configurations ----------------------------------------------------
_number = st.floats(-1e6, 1e6, allow_nan=False)
_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


@st.composite
def _parameter(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["value", "values", "int", "float", "normal", "q_log_uniform_values"]))
    if kind == "value":
        return {"value": draw(st.one_of(_number, st.text(max_size=5), st.booleans()))}
    if kind == "values":
        return {
            "values": draw(st.lists(st.one_of(st.integers(), st.text(max_size=5)), min_size=1, max_size=5))
        }
    if kind == "int":
        low = draw(st.integers(-1000, 1000))
        return {"min": low, "max": low + draw(st.integers(1, 1000))}
    if kind == "float":
        low = draw(_number)
        return {"min": low, "max": low + draw(st.floats(0.5, 100))}
    if kind == "normal":
        return {"distribution": "normal", "mu": draw(_number), "sigma": draw(st.floats(0.01, 100))}
    low = draw(st.floats(0.001, 100))
    return {"distribution": kind, "min": low, "max": low * 2, "q": draw(st.floats(0.01, 10))}


_parameters = st.recursive(
    st.dictionaries(_names, _parameter(), min_size=1, max_size=4),
    lambda inner: st.dictionaries(
        _names, st.one_of(_parameter(), inner.map(lambda p: {"parameters": p})), min_size=1, max_size=3
    ),
    max_leaves=8,
)


@given(_parameters, st.sampled_from(["random", "bayes"]), st.booleans())
def test_normalising_is_idempotent_and_yaml_reads_like_the_dict(
    parameters: dict[str, Any], method: str, hyperband: bool
) -> None:
    config: dict[str, Any] = {"method": method, "metric": {"name": "loss"}, "parameters": parameters}
    if hyperband:
        config["early_terminate"] = {"type": "hyperband", "max_iter": 27, "s": 3}
    once = normalise(config)
    assert normalise(once) == once
    assert normalise(yaml.safe_dump(config)) == once
    assert once["metric"]["goal"] == "minimize"
