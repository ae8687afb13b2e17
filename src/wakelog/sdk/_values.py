"""Turn what users pass to ``log()`` and ``config`` into plain, serialisable values.

Python numbers, bools, strings and None pass through untouched (the hot path never gets here).
numpy scalars, 0-d arrays and one-element tensors (Paddle, torch: anything with ``.item()``)
become Python numbers; larger arrays and tensors become a ``Histogram`` as in wandb (a short one,
≤ 32 elements, a list). NaN and ±Inf are kept as they are. Anything else is refused with
``BadValue`` whose message says what was received.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from wakelog.errors import Error

#: Longest string value kept; longer ones are refused (they belong in a file or an Html).
MAX_STRING = 1024 * 1024
#: Deepest nesting of dicts and lists that is kept.
MAX_DEPTH = 64
#: Arrays up to this many elements are logged as lists; larger ones as histograms (wandb's rule).
MAX_LIST_ARRAY = 32
_INT64 = (-(2**63), 2**63 - 1)


class BadValue(Error, ValueError):
    """A value that cannot be logged; the message names the type and why."""


def _is_media(value: Any) -> bool:
    from wakelog.sdk.media import Media

    return isinstance(value, Media)


def normalise(value: Any, *, allow_media: bool = True, depth: int = 0) -> Any:
    """Return a serialisable version of ``value`` or raise ``BadValue``."""
    kind = type(value)
    if kind is float or kind is bool or value is None:
        return value
    if kind is int:
        return value if _INT64[0] <= value <= _INT64[1] else float(value)
    if kind is str:
        if len(value) > MAX_STRING:
            raise BadValue(f"string of {len(value):,} characters is longer than {MAX_STRING:,}")
        return value
    if depth >= MAX_DEPTH:
        raise BadValue(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise BadValue(f"nested key {key!r} is a {type(key).__name__}, not a str")
            out[key] = normalise(item, allow_media=allow_media, depth=depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [normalise(item, allow_media=allow_media, depth=depth + 1) for item in value]
    return _normalise_other(value, allow_media=allow_media, depth=depth)


def _normalise_other(value: Any, *, allow_media: bool, depth: int) -> Any:
    """Subclasses of the plain types (IntEnum, numpy.float64, str enums…), media, dates, arrays."""
    if isinstance(value, int):
        return normalise(int(value))
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return normalise(str(value))
    if _is_media(value):
        if not allow_media:
            raise BadValue(f"a {type(value).__name__} media object cannot be stored here")
        return value.frozen()  # later edits by the user (Table.add_data) must not leak in
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if allow_media and type(value).__module__.startswith("plotly."):  # a figure, logged as wandb does
        from wakelog.sdk.media import Plotly

        return Plotly(value)
    if (hasattr(value, "item") and callable(value.item)) or hasattr(value, "__array__"):
        return _array_like(value, allow_media=allow_media, depth=depth)
    kind = type(value)
    raise BadValue(
        f"a {kind.__module__}.{kind.__qualname__} cannot be logged; log numbers, strings, "
        "bools, dicts or lists of them, arrays, tensors, or wakelog media objects"
    )


def _element_count(value: Any) -> int | None:
    for attr in ("size", "numel"):
        count = getattr(value, attr, None)
        if callable(count):
            try:
                count = count()
            except Exception:
                continue
        if isinstance(count, int):
            return count
        if count is not None and hasattr(count, "__int__"):
            return int(count)
    return None


def _array_like(value: Any, *, allow_media: bool, depth: int) -> Any:
    count = _element_count(value)
    if count == 1 or count is None:
        try:
            return normalise(value.item(), allow_media=allow_media, depth=depth + 1)
        except Exception as exc:
            if count == 1:
                raise BadValue(f"{type(value).__name__}.item() failed: {exc}") from None
    if count == 0:
        return []
    from wakelog.sdk.media._convert import to_numpy

    array = to_numpy(value)
    if array.dtype.kind not in "biuf":
        raise BadValue(f"an array of dtype {array.dtype} cannot be logged; only numbers")
    if array.size <= MAX_LIST_ARRAY:
        return normalise(array.tolist(), allow_media=allow_media, depth=depth + 1)
    if not allow_media:
        raise BadValue(f"an array of {array.size} elements is too large to store here")
    from wakelog.sdk.media import Histogram

    return Histogram(array)
