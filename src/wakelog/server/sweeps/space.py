"""The search space of a normalised sweep configuration: its parameters flattened, the grid, and
values drawn exactly as wandb defines each distribution.

A parameter is addressed by its path (``("optimizer", "beta1")`` for a nested one); suggestions
go back nested (``{"optimizer": {"beta1": 0.9}}``). Every continuous distribution is sampled
through its inverse CDF from a number ``u`` in (0, 1), as wandb does: random search draws ``u``
uniformly, bayes search lets Optuna choose it (so a log-uniform parameter is searched on a log
scale, a normal one in probability). ``q`` variants round to a multiple of ``q`` (an integer ``q``
gives integers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

#: Names used in flat keys: wandb parameter names never hold "/".
SEPARATOR = "/"
#: ``u`` stays this far inside (0, 1), where the normal-family inverse CDFs are finite.
U_EDGE = 1e-12


@dataclass(frozen=True)
class Param:
    path: tuple[str, ...]
    spec: dict[str, Any]

    @property
    def key(self) -> str:
        return SEPARATOR.join(self.path)

    @property
    def name(self) -> str:
        """How people read it: nested names joined with dots."""
        return ".".join(self.path)

    @property
    def distribution(self) -> str:
        return str(self.spec["distribution"])

    @property
    def choices(self) -> list[Any]:
        """What a grid walks through (constants, categoricals, int_uniform and q_uniform)."""
        spec = self.spec
        if self.distribution == "constant":
            return [spec["value"]]
        if "values" in spec:
            return list(spec["values"])
        if self.distribution == "int_uniform":
            return list(range(spec["min"], spec["max"] + 1))
        # wandb's grid takes min, min + q, … up to but not including max (numpy's arange)
        count = max(math.ceil((spec["max"] - spec["min"]) / spec["q"] - 1e-9), 1)
        return [_quantise(spec["min"] + i * spec["q"], spec["q"]) for i in range(count)]


def params(parameters: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[Param]:
    """Every leaf parameter, nested ones flattened, in a stable (sorted) order."""
    found: list[Param] = []
    for name in sorted(parameters):
        spec = parameters[name]
        if "parameters" in spec:
            found.extend(params(spec["parameters"], (*prefix, name)))
        else:
            found.append(Param((*prefix, name), spec))
    return found


def nest(flat: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def flatten(nested: dict[str, Any], space: list[Param]) -> dict[str, Any]:
    """Suggested (nested) values by flat key, for the parameters of ``space``."""
    out: dict[str, Any] = {}
    for param in space:
        node: Any = nested
        for part in param.path:
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            out[param.key] = node
    return out


# -- grid -------------------------------------------------------------------------------------------
def grid_size(space: list[Param]) -> int:
    return math.prod(len(param.choices) for param in space)


def grid_point(space: list[Param], index: int) -> dict[str, Any]:
    """The ``index``-th combination (0 ≤ index < grid_size), the last parameter varying fastest."""
    values: dict[tuple[str, ...], Any] = {}
    for param in reversed(space):
        choices = param.choices
        index, pick = divmod(index, len(choices))
        values[param.path] = choices[pick]
    return nest(values)


# -- sampling ---------------------------------------------------------------------------------------
# A point is where a trial sits in the search space, by flat key: an index for a categorical, the
# integer for int_uniform, the quantile ``u`` for a continuous distribution. Random search draws
# it, bayes search gets it from Optuna; ``decode`` turns it into the parameter's value.
def draw(param: Param, u: float) -> float | int:
    """The point at quantile ``u`` (uniform on [0, 1)) of the parameter's distribution."""
    spec, kind = param.spec, param.distribution
    if kind == "categorical":
        return min(int(u * len(spec["values"])), len(spec["values"]) - 1)
    if kind == "categorical_w_probabilities":
        total = 0.0
        for index, chance in enumerate(spec["probabilities"]):
            total += chance
            if u < total:
                return index
        return len(spec["probabilities"]) - 1
    if kind == "int_uniform":
        span = spec["max"] - spec["min"] + 1
        return int(spec["min"] + min(int(u * span), span - 1))
    return min(max(u, U_EDGE), 1 - U_EDGE)


def decode(param: Param, point: float | int) -> Any:
    """The parameter's value at ``point``."""
    spec, kind = param.spec, param.distribution
    if kind == "constant":
        return spec["value"]
    if kind.startswith("categorical"):
        return spec["values"][int(point)]
    if kind == "int_uniform":
        return int(point)
    value = _continuous(kind.removeprefix("q_"), spec, float(point))
    return _quantise(value, spec["q"]) if kind.startswith("q_") else value


def values(space: list[Param], point: dict[str, Any]) -> dict[str, Any]:
    """The nested parameter values of a point (constants included)."""
    return nest({p.path: decode(p, point[p.key]) if is_searched(p) else p.spec["value"] for p in space})


def locate(param: Param, value: Any) -> float | int | None:
    """Where ``value`` sits in the parameter's space: ``decode``'s inverse, for a run made outside
    the sweep (``prior_runs``); None when the value is not one the parameter can take."""
    spec, kind = param.spec, param.distribution
    if kind.startswith("categorical"):
        matches = [i for i, v in enumerate(spec["values"]) if v == value and type(v) is type(value)]
        return matches[0] if matches else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if kind == "int_uniform":
        return int(value) if value == int(value) and spec["min"] <= value <= spec["max"] else None
    try:
        u = _quantile(kind.removeprefix("q_"), spec, float(value))
    except ValueError:  # outside the distribution's support (log of a non-positive value)
        return None
    return min(max(u, U_EDGE), 1 - U_EDGE) if 0.0 <= u <= 1.0 else None


def _quantile(kind: str, spec: dict[str, Any], x: float) -> float:
    """``_continuous``'s inverse: the quantile of ``x``."""
    if kind == "uniform":
        return (x - spec["min"]) / (spec["max"] - spec["min"])
    if kind == "log_uniform":
        return (math.log(x) - spec["min"]) / (spec["max"] - spec["min"])
    if kind == "log_uniform_values":
        low, high = math.log(spec["min"]), math.log(spec["max"])
        return (math.log(x) - low) / (high - low)
    if kind == "inv_log_uniform":
        return 1 - (-math.log(x) - spec["min"]) / (spec["max"] - spec["min"])
    if kind == "inv_log_uniform_values":
        low, high = -math.log(spec["max"]), -math.log(spec["min"])
        return 1 - (-math.log(x) - low) / (high - low)
    if kind == "normal":
        return NormalDist(spec["mu"], spec["sigma"]).cdf(x)
    if kind == "log_normal":
        return NormalDist(spec["mu"], spec["sigma"]).cdf(math.log(x))
    if kind == "beta":
        from scipy.stats import beta

        return float(beta.cdf(x, spec["a"], spec["b"]))
    raise ValueError(f"not a continuous distribution: {kind}")


def _continuous(kind: str, spec: dict[str, Any], u: float) -> float:
    """wandb's inverse CDFs."""
    if kind == "uniform":
        return float(spec["min"] + u * (spec["max"] - spec["min"]))
    if kind == "log_uniform":  # min and max are exponents
        return math.exp(spec["min"] + u * (spec["max"] - spec["min"]))
    if kind == "log_uniform_values":
        low, high = math.log(spec["min"]), math.log(spec["max"])
        return math.exp(low + u * (high - low))
    if kind == "inv_log_uniform":  # x = exp(-y), y uniform on [min, max]
        return math.exp(-(spec["min"] + (1 - u) * (spec["max"] - spec["min"])))
    if kind == "inv_log_uniform_values":
        low, high = -math.log(spec["max"]), -math.log(spec["min"])
        return math.exp(-(low + (1 - u) * (high - low)))
    if kind == "normal":
        return NormalDist(spec["mu"], spec["sigma"]).inv_cdf(u)
    if kind == "log_normal":
        return math.exp(NormalDist(spec["mu"], spec["sigma"]).inv_cdf(u))
    if kind == "beta":
        from scipy.stats import beta

        return float(beta.ppf(u, spec["a"], spec["b"]))
    raise ValueError(f"not a continuous distribution: {kind}")


def _quantise(value: float, q: float) -> Any:
    rounded = round(value / q) * q
    if isinstance(q, int):
        return int(rounded)
    return float(round(rounded, 12))  # 0.1 * 3 is 0.30000000000000004; keep what people wrote


def is_searched(param: Param) -> bool:
    return param.distribution != "constant"
