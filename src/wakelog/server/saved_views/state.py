"""What a saved view may hold, checked before anything is stored (422 naming the field).

A view's state is ``{"params": {...}, "layout": {...} | null}``: ``params`` are the workspace's
URL parameters exactly as the web app writes them (``web/src/pages/workspace/useWorkspaceUrl.ts``),
each a string; ``layout`` is the panel layout object the workspace route already keeps per user
(``PUT /projects/{entity}/{project}/workspace``), free-form so that new panel options need no server
change. Opening a view puts ``params`` into the address, so a parameter the app does not read is
refused here rather than carried around.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from wakelog.server.errors import ValidationFailed

#: A whole state at most, as compact JSON.
MAX_STATE_BYTES = 256 * 1024
#: A view's name: what the menu shows.
MAX_NAME = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _one_of(*allowed: str) -> Callable[[str], bool]:
    return lambda value: value in allowed


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _smoothing(value: str) -> bool:
    """An EMA weight (below 1), a running average's window or a gaussian's sigma (at most 100)."""
    number = _number(value)
    return number is not None and 0 <= number <= 100


def _finite(value: str) -> bool:
    return _number(value) is not None


def _count(value: str) -> bool:
    return value.isdigit() and int(value) > 0


def _x_range(value: str) -> bool:
    parts = value.split(",")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        return False
    return math.isfinite(low) and math.isfinite(high) and low < high


def _text(value: str) -> bool:
    return True


#: Each workspace URL parameter, what it is, and its check.
PARAMS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "filter": ("the run filter", _text),
    "order": ("the run order", _text),
    "view": ("split, table or charts", _one_of("split", "table", "charts")),
    "x": ("the x axis", _text),
    "legend": ("0 or 1", _one_of("0", "1")),
    "smooth": ("a smoothing amount from 0 to 100", _smoothing),
    "smoothk": ("ema, average or gaussian", _one_of("ema", "average", "gaussian")),
    "outliers": ("0 or 1", _one_of("0", "1")),
    "ymin": ("a number", _finite),
    "ymax": ("a number", _finite),
    "maxruns": ("a whole number above 0", _count),
    "log": ("0 or 1", _one_of("0", "1")),
    "group": ("the grouping key", _text),
    "agg": ("mean or median", _one_of("mean", "median")),
    "band": ("minmax, std or none", _one_of("minmax", "std", "none")),
    "cols": ("the added columns", _text),
    "hide": ("the hidden columns", _text),
    "sel": ("the selected runs", _text),
    "hidden": ("the runs hidden from the charts", _text),
    "xr": ("a zoomed x range 'low,high'", _x_range),
    "xa": ("the zoomed x axis", _text),
}
STATE_FIELDS = ("params", "layout")


def check_name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string")
    name = value.strip()
    if not 1 <= len(name) <= MAX_NAME or _CONTROL.search(name):
        raise ValidationFailed(f"{field} must be 1-{MAX_NAME} characters without control characters")
    return name


def check_state(value: Any) -> dict[str, Any]:
    """``value`` if it is a state a view may hold; else 422 naming the first field that is wrong."""
    if not isinstance(value, dict):
        raise ValidationFailed("state must be a JSON object with params and layout")
    unknown = sorted(set(value) - set(STATE_FIELDS))
    if unknown:
        raise ValidationFailed(f"state.{unknown[0]} is unknown (allowed: {', '.join(STATE_FIELDS)})")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_STATE_BYTES:
        raise ValidationFailed(f"state is {size} bytes, at most {MAX_STATE_BYTES}")
    params = value.get("params", {})
    if not isinstance(params, dict):
        raise ValidationFailed("state.params must be a JSON object of workspace URL parameters")
    for name, param in params.items():
        if name not in PARAMS:
            raise ValidationFailed(f"state.params.{name} is not a workspace parameter")
        what, check = PARAMS[name]
        if not isinstance(param, str) or not check(param):
            raise ValidationFailed(f"state.params.{name} must be a string: {what}")
    layout = value.get("layout")
    if layout is not None and not isinstance(layout, dict):
        raise ValidationFailed("state.layout must be a JSON object or null")
    return {"params": params, "layout": layout}
