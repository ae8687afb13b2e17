"""Long lists in SQL, in pieces both backends take.

PostgreSQL takes at most 65,535 bind parameters in one statement, SQLite 32,766 (999 before
3.32); a batch may name far more keys than that. No query takes an unbounded ``IN`` list: it
asks about ``IN_CHUNK`` values at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

#: Values per ``IN`` list: under the oldest SQLite limit (999) with room for the other parameters.
IN_CHUNK = 900


def chunked(values: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``values`` in sorted lists of at most ``size`` (sorted: the same keys, the same statements)."""
    ordered = sorted(values)  # type: ignore[type-var]
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
