"""Plotly figures, stored as the figure's JSON (``.plotly.json``) and drawn by the web app with plotly.js.

The file is strict JSON: numpy arrays become lists and NaN or infinities ``null`` (a gap, to
plotly.js), as plotly's own JSON encoder writes them.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import threading
from collections.abc import Mapping
from typing import Any

from ._source import FileMedia


def _plain(value: Any) -> Any:
    """A figure's JSON as plain Python: numpy values to lists and numbers, NaN and ±inf to None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if callable(getattr(value, "tolist", None)):  # numpy arrays and scalars
        return _plain(value.tolist())
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if callable(getattr(value, "to_plotly_json", None)):
        return _plain(value.to_plotly_json())
    raise TypeError(f"Plotly figure holds a {type(value).__name__}, which cannot be stored as JSON")


def is_plotly_figure(value: Any) -> bool:
    return type(value).__module__.startswith("plotly.") and callable(getattr(value, "to_plotly_json", None))


class Plotly(FileMedia):
    """An interactive Plotly chart.

    Args:
        val: a ``plotly.graph_objects.Figure`` (or a figure dict with ``data`` and optional
            ``layout``). Matplotlib figures: log ``Image(fig)``.

    The figure's JSON is taken now (a copy); it is written by the writer thread.
    """

    _log_type = "plotly-file"
    _kind = "plotly"

    def __init__(self, val: Any) -> None:
        if is_plotly_figure(val):
            figure = val.to_plotly_json()  # a deep copy
        elif isinstance(val, Mapping) and "data" in val:
            figure = _plain(val)  # a copy, checked now
        elif type(val).__module__.startswith("matplotlib"):
            raise TypeError("Plotly takes plotly figures; log a matplotlib figure as wakelog.Image(fig)")
        else:
            raise TypeError(
                f"Plotly takes a plotly figure or a figure dict with 'data'; got {type(val).__name__}"
            )
        self._figure: dict[str, Any] | None = figure
        self._encoded: bytes | None = None
        self._lock = threading.Lock()

    def _content(self) -> tuple[bytes, str]:
        with self._lock:
            if self._encoded is None:
                self._encoded = json.dumps(
                    _plain(self._figure), separators=(",", ":"), allow_nan=False
                ).encode("utf-8")
                self._figure = None
            return self._encoded, "plotly.json"

    def __repr__(self) -> str:
        return "Plotly()"
