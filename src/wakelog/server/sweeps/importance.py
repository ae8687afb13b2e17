"""A sweep's parameter importance: its searched parameters, read from the finished trials' values
(so it works the same for every method), rated by the shared core (``query/importance``)."""

from __future__ import annotations

from typing import Any

from wakelog.server.query.importance import rank
from wakelog.server.sweeps import space as sp


def importance(
    parameters: dict[str, Any], observed: list[tuple[dict[str, Any], float]], goal: str
) -> list[dict[str, Any]]:
    """``[{param, importance, correlation}]`` most important first; ``observed`` holds each
    finished trial's (nested params, metric value). Nested parameters read ``optimizer.beta1``."""
    space = [p for p in sp.params(parameters) if sp.is_searched(p)]
    columns = {p.name: [sp.flatten(params, [p]).get(p.key) for params, _ in observed] for p in space}
    return rank(columns, [value for _, value in observed], goal)
