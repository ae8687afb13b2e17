"""wandb's sweep configuration, checked and normalised: the one place the server reads it.

``normalise(config)`` takes the configuration as wandb users write it (a dict, or YAML text) and
returns it with every parameter's ``distribution`` spelled out and wandb's defaults filled in
(``goal: minimize``, ``eta: 3``, ``strict: true``, ``mu: 0``, ``sigma: 1``, ``q: 1``…). A
configuration wandb would refuse raises ``SweepConfigError``, which lists every problem found as
``(key path, message)``: ``parameters.lr.distribution: unknown distribution 'log_uniformm'``.
The rules are wandb's own (its sweeps library's JSON schema and checks), read for facts only.
Normalising twice gives the same result.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from wakelog.errors import Error

METHODS = ("grid", "random", "bayes")
GOALS = ("minimize", "maximize")
IMPUTES = ("latest", "best", "worst")
#: Keys wandb's schema allows at the top; the ones wakelog acts on are checked below.
TOP_KEYS = {
    "method",
    "metric",
    "parameters",
    "early_terminate",
    "run_cap",
    "program",
    "command",
    "name",
    "description",
    "entity",
    "project",
    "controller",
    "apiVersion",
    "kind",
    "job",
    "image_uri",
}
#: Macros a ``command`` may hold; the agent expands them (docs/sweeps.md).
MACROS = ("env", "interpreter", "program", "args", "args_no_hyphens", "args_json", "args_json_file")
#: The most values and nesting levels a configuration may hold (its body is limited too).
MAX_NODES = 200_000
MAX_DEPTH = 64
_MACRO = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
#: Distributions with their keys: required ones, then optional ones with wandb's defaults.
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "constant": (("value",), {}),
    "categorical": (("values",), {}),
    "categorical_w_probabilities": (("values", "probabilities"), {}),
    "int_uniform": (("min", "max"), {}),
    "uniform": (("min", "max"), {}),
    "q_uniform": (("min", "max"), {"q": 1.0}),
    "log_uniform": (("min", "max"), {}),
    "log_uniform_values": (("min", "max"), {}),
    "q_log_uniform": (("min", "max"), {"q": 1.0}),
    "q_log_uniform_values": (("min", "max"), {"q": 1.0}),
    "inv_log_uniform": (("min", "max"), {}),
    "inv_log_uniform_values": (("min", "max"), {}),
    "normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "log_normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_log_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "beta": ((), {"a": 1.0, "b": 1.0}),
    "q_beta": ((), {"a": 1.0, "b": 1.0, "q": 1.0}),
}
#: Distributions a grid can enumerate (wandb's rule).
GRID_DISTRIBUTIONS = ("constant", "categorical", "int_uniform", "q_uniform")
#: Distributions whose ``min`` and ``max`` are values (not exponents) and so must be positive.
POSITIVE_BOUNDS = ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values")
_POSITIVE = ("q", "sigma", "a", "b")


class SweepConfigError(Error, ValueError):
    """A sweep configuration wandb would refuse; ``problems`` lists ``(key path, message)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {message}" if key else message for key, message in problems))


class _Problems:
    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, key: str, message: str) -> None:
        self.found.append((key, message))


def parse(config: Any) -> Any:
    """YAML text (read with ``yaml.safe_load``) or an already parsed mapping."""
    if not isinstance(config, str):
        return config
    import yaml

    try:
        parsed = yaml.safe_load(config)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SweepConfigError([("", f"not valid YAML{where}: {problem}")]) from None
    except RecursionError:
        raise SweepConfigError([("", "the YAML nests too deeply")]) from None
    _check_size(parsed)
    return parsed


def _check_size(value: Any) -> None:
    """YAML aliases can make a small text stand for a huge tree ("billion laughs"): count it."""
    stack, seen = [(value, 0)], 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES or depth > MAX_DEPTH:
            raise SweepConfigError(
                [("", f"the configuration is too large (over {MAX_NODES} values or {MAX_DEPTH} levels)")]
            )
        if isinstance(item, Mapping):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def normalise(config: Any) -> dict[str, Any]:
    """The configuration checked, with distributions and defaults filled in."""
    config = parse(config)
    problems = _Problems()
    if not isinstance(config, Mapping):
        raise SweepConfigError([("", f"a sweep configuration is a mapping, not {_kind(config)}")])
    out: dict[str, Any] = {"method": _method(config, problems)}
    if "metric" in config:
        out["metric"] = _metric(config["metric"], problems)
    elif out["method"] == "bayes":
        problems.add("metric", "bayes search needs a metric to optimise")
    out["parameters"] = _parameters(config.get("parameters"), "parameters", out["method"], problems)
    if "early_terminate" in config:
        out["early_terminate"] = _early_terminate(config["early_terminate"], problems)
        if "metric" not in config:
            problems.add("metric", "early termination needs a metric")
    out.update(_other_keys(config, problems))
    if problems.found:
        raise SweepConfigError(problems.found)
    return out


def _other_keys(config: Mapping[str, Any], problems: _Problems) -> dict[str, Any]:
    out = {}
    for key, value in config.items():
        if key not in TOP_KEYS:
            problems.add(str(key), f"unknown key (known: {', '.join(sorted(TOP_KEYS))})")
        elif key in _SIMPLE:
            out[key] = _SIMPLE[key](value, key, problems)
    return out


def _unknown_keys(
    spec: Mapping[str, Any],
    known: tuple[str, ...],
    where: str,
    problems: _Problems,
    what: str = "unknown key",
) -> None:
    for key in spec:
        if key not in known:
            problems.add(f"{where}.{key}", f"{what} (known: {', '.join(known)})")


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _method(config: Mapping[str, Any], problems: _Problems) -> str:
    method = config.get("method")
    if method is None:
        problems.add("method", f"required: one of {', '.join(METHODS)}")
        return "random"
    if method not in METHODS:
        hint = " (wandb's custom method is for its Launch schedulers)" if method == "custom" else ""
        problems.add("method", f"unknown method {method!r}: one of {', '.join(METHODS)}{hint}")
        return "random"
    return str(method)


def _metric(metric: Any, problems: _Problems) -> dict[str, Any]:
    if not isinstance(metric, Mapping):
        problems.add("metric", f"a mapping with name and goal, not {_kind(metric)}")
        return {"name": "", "goal": "minimize"}
    _unknown_keys(metric, ("name", "goal", "target", "impute", "impute_while_running"), "metric", problems)
    name = metric.get("name")
    if not isinstance(name, str) or not name:
        problems.add("metric.name", "required: the name of a logged metric")
    out: dict[str, Any] = {
        "name": name if isinstance(name, str) else "",
        "goal": metric.get("goal", "minimize"),
    }
    if out["goal"] not in GOALS:
        problems.add("metric.goal", f"unknown goal {out['goal']!r}: minimize or maximize")
    if "target" in metric and not _is_number(metric["target"]):
        problems.add("metric.target", "must be a number")
    for key, allowed in (("impute", IMPUTES), ("impute_while_running", (*IMPUTES, "false", False))):
        if key in metric and metric[key] not in allowed:
            problems.add(f"metric.{key}", f"one of {', '.join(map(str, allowed))}")
    out.update({key: metric[key] for key in ("target", "impute", "impute_while_running") if key in metric})
    return out


def _parameters(params: Any, where: str, method: str, problems: _Problems) -> dict[str, Any]:
    if not isinstance(params, Mapping) or not params:
        if params is None and where == "parameters":
            problems.add(where, "required: the parameters to search over")
        else:
            problems.add(where, f"a non-empty mapping of parameter names, not {_kind(params)}")
        return {}
    out: dict[str, Any] = {}
    for name, spec in params.items():
        path = f"{where}.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            problems.add(path, "a parameter name starts with a letter or _ and holds letters, digits, _ . -")
            continue
        if not isinstance(spec, Mapping):
            problems.add(path, f"a mapping (value, values, distribution… or parameters), not {_kind(spec)}")
            continue
        if "parameters" in spec:
            for key in spec:
                if key != "parameters":
                    problems.add(f"{path}.{key}", "a nested parameter holds only 'parameters'")
            out[name] = {
                "parameters": _parameters(spec["parameters"], f"{path}.parameters", method, problems)
            }
        else:
            out[name] = _parameter(spec, path, method, problems)
    return out


def infer_distribution(spec: Mapping[str, Any]) -> str | None:
    """The distribution wandb assumes when a parameter names none."""
    if "value" in spec:
        return "constant"
    if "values" in spec:
        return "categorical_w_probabilities" if "probabilities" in spec else "categorical"
    if "min" in spec and "max" in spec:
        return "int_uniform" if _is_int(spec["min"]) and _is_int(spec["max"]) else "uniform"
    return None


def _distribution_of(spec: Mapping[str, Any], path: str, problems: _Problems) -> str | None:
    distribution = spec.get("distribution")
    if distribution is None:
        distribution = infer_distribution(spec)
        if distribution is None:
            problems.add(path, "give value, values, min and max, or a distribution")
    elif distribution == "categorical" and "probabilities" in spec:
        distribution = "categorical_w_probabilities"
    elif distribution not in DISTRIBUTIONS:
        problems.add(f"{path}.distribution", f"unknown distribution {distribution!r}")
        return None
    return distribution


def _parameter(spec: Mapping[str, Any], path: str, method: str, problems: _Problems) -> dict[str, Any]:
    distribution = _distribution_of(spec, path, problems)
    if distribution is None:
        return dict(spec)
    required, defaults = DISTRIBUTIONS[distribution]
    what = f"not a key of the {distribution} distribution"
    _unknown_keys(spec, ("distribution", *required, *defaults), path, problems, what)
    before = len(problems.found)
    out: dict[str, Any] = {"distribution": distribution}
    for key in required:
        if key not in spec:
            problems.add(f"{path}.{key}", f"required by the {distribution} distribution")
        else:
            out[key] = spec[key]
    for key, default in defaults.items():
        out[key] = spec.get(key, default)
    if len(problems.found) == before:
        _check_values(out, path, problems)
    if method == "grid" and distribution not in GRID_DISTRIBUTIONS:
        problems.add(
            f"{path}.distribution",
            f"grid search cannot enumerate {distribution}: use {', '.join(GRID_DISTRIBUTIONS)}",
        )
    return out


def _check_values(spec: dict[str, Any], path: str, problems: _Problems) -> None:
    if "values" in spec:
        _check_choices(spec, path, problems)
        return
    for key in ("min", "max", "mu", "sigma", "q", "a", "b"):
        if key in spec and not _is_number(spec[key]):
            problems.add(f"{path}.{key}", f"must be a finite number, not {spec[key]!r}")
            return
    for key in _POSITIVE:
        if key in spec and spec[key] <= 0:
            problems.add(f"{path}.{key}", f"must be above 0, not {spec[key]!r}")
    if "min" in spec:
        _check_bounds(spec, path, problems)


def _check_bounds(spec: dict[str, Any], path: str, problems: _Problems) -> None:
    distribution = spec["distribution"]
    if distribution == "int_uniform":
        for key in ("min", "max"):
            if not _is_int(spec[key]):
                problems.add(f"{path}.{key}", f"int_uniform takes integers, not {spec[key]!r}")
    if spec["min"] >= spec["max"]:
        problems.add(f"{path}.min", f"min {spec['min']!r} is not less than max {spec['max']!r}")
    if distribution in POSITIVE_BOUNDS and spec["min"] <= 0:
        problems.add(f"{path}.min", f"{distribution} takes values above 0, not {spec['min']!r}")


def _check_choices(spec: dict[str, Any], path: str, problems: _Problems) -> None:
    values = spec["values"]
    if not isinstance(values, list) or not values:
        problems.add(f"{path}.values", f"a non-empty list, not {_kind(values)}")
        return
    if "probabilities" not in spec:
        return
    chances = spec["probabilities"]
    if not isinstance(chances, list) or not all(_is_number(p) and p >= 0 for p in chances):
        problems.add(f"{path}.probabilities", "a list of numbers of at least 0")
    elif len(chances) != len(values):
        problems.add(
            f"{path}.probabilities", f"{len(chances)} probabilities for {len(values)} values: give one each"
        )
    elif not math.isclose(sum(chances), 1.0, abs_tol=1e-6):
        problems.add(f"{path}.probabilities", f"must sum to 1, not {sum(chances)!r}")


def _early_terminate(spec: Any, problems: _Problems) -> dict[str, Any]:
    where = "early_terminate"
    if not isinstance(spec, Mapping):
        problems.add(where, f"a mapping with type: hyperband, not {_kind(spec)}")
        return {}
    _unknown_keys(spec, ("type", "min_iter", "max_iter", "s", "eta", "strict"), where, problems)
    if spec.get("type") != "hyperband":
        problems.add(f"{where}.type", f"the only early termination is 'hyperband', not {spec.get('type')!r}")
    out: dict[str, Any] = {"type": "hyperband", "eta": spec.get("eta", 3), "strict": spec.get("strict", True)}
    if "min_iter" in spec:
        out["min_iter"] = _count(spec["min_iter"], f"{where}.min_iter", "an integer", problems)
    elif "max_iter" in spec and "s" in spec:
        out["max_iter"] = _count(spec["max_iter"], f"{where}.max_iter", "an integer", problems)
        out["s"] = spec["s"]
        if not _is_number(spec["s"]) or spec["s"] < 1:
            problems.add(f"{where}.s", f"a number of brackets of at least 1, not {spec['s']!r}")
    else:
        problems.add(where, "hyperband needs min_iter, or max_iter and s")
    if not _is_number(out["eta"]) or out["eta"] <= 1:
        problems.add(f"{where}.eta", f"a number above 1, not {out['eta']!r}")
    if not isinstance(out["strict"], bool):
        problems.add(f"{where}.strict", "true or false")
    return out


def _count(value: Any, key: str, what: str, problems: _Problems) -> Any:
    if not _is_int(value) or value < 1:
        problems.add(key, f"{what} of at least 1, not {value!r}")
    return value


def _run_cap(value: Any, key: str, problems: _Problems) -> Any:
    return _count(value, key, "a number of runs", problems)


def _text(value: Any, key: str, problems: _Problems) -> Any:
    if not isinstance(value, str):
        problems.add(key, f"text, not {_kind(value)}")
    return value


def _command(value: Any, key: str, problems: _Problems) -> Any:
    if not isinstance(value, list) or not value:
        problems.add(key, f"a non-empty list of words, not {_kind(value)}")
        return value
    for index, word in enumerate(value):
        if not isinstance(word, str):
            problems.add(f"{key}[{index}]", f"text, not {_kind(word)}")
            continue
        for macro in _MACRO.findall(word):
            if macro not in MACROS:
                known = ", ".join("${" + name + "}" for name in MACROS)
                problems.add(f"{key}[{index}]", f"unknown macro ${{{macro}}} (known: {known})")
    return value


def _controller(value: Any, key: str, problems: _Problems) -> Any:
    if not isinstance(value, Mapping) or value.get("type") not in ("local", "cloud"):
        problems.add(key, "a mapping with type: local or cloud")
    return value


def _kind_key(value: Any, key: str, problems: _Problems) -> Any:
    if value != "sweep":
        problems.add(key, f"the only kind is 'sweep', not {value!r}")
    return value


_SIMPLE: dict[str, Callable[[Any, str, _Problems], Any]] = {
    "run_cap": _run_cap,
    "program": _text,
    "command": _command,
    "name": _text,
    "description": _text,
    "entity": _text,
    "project": _text,
    "apiVersion": _text,
    "job": _text,
    "image_uri": _text,
    "controller": _controller,
    "kind": _kind_key,
}
