"""What the SQL columns can hold: integer ranges, and values cleaned up to fit JSONB and text columns."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MAX_INT64 = 2**63 - 1
MAX_INT32 = 2**31 - 1
_RUN_TEXT = {"name": 256, "group_name": 256, "job_type": 128, "notes": None, "host": 256, "state": 16}
#: The most of a traceback kept: its end, where the exception and the failing line are.
MAX_TRACEBACK = 64 * 1024


def json_safe(value: Any) -> Any:
    """``value`` as PostgreSQL's JSONB and text can hold it, the same on SQLite.

    NaN and ±Inf (a diverged loss) become the strings "NaN", "Infinity" and "-Infinity"; NUL
    characters, which PostgreSQL text cannot contain, are dropped.
    """
    kind = type(value)
    if kind is float:
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if kind is str:
        return value.replace("\x00", "") if "\x00" in value else value
    if kind is dict:
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [json_safe(v) for v in value]
    return value


def db_float(value: float | None) -> float | None:
    """NaN is stored as NULL (SQL cannot order it); ±Inf stay."""
    if value is None or math.isnan(value):
        return None
    return float(value)


def db_floats(columns: np.ndarray) -> list[list[float | None]]:
    """``db_float`` of whole columns at once (``columns``: a row each; a batch's summary
    statistics, a key per column)."""
    values: list[list[float | None]] = columns.tolist()
    for row, index in np.argwhere(np.isnan(columns)).tolist():
        values[row][index] = None
    return values


def fit_run_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Run columns cut to their SQL sizes, JSON columns made storable."""
    values = {}
    for name, value in fields.items():
        if name in _RUN_TEXT and isinstance(value, str):
            limit = _RUN_TEXT[name]
            value = json_safe(value)[:limit] if limit else json_safe(value)
        elif name == "traceback" and isinstance(value, str):
            value = json_safe(value)[-MAX_TRACEBACK:]
        elif name in ("tags", "run_metadata"):
            value = json_safe(value)
        values[name] = value
    return values
