"""Points (key, step, wall time, value) into history rows, one row per step, in step order.

Sources deliver points one tag at a time, in the order they were written: a row is kept open
while later steps arrive (up to ``WINDOW`` open rows) and written lowest step first. A row's
``_timestamp`` is the wall time of its step's first point. A point at or before the last step
written for its key, or a second value for a key at one step, is skipped and counted: the server
keeps one value per key and step, in step order.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable
from typing import Any

#: Open rows kept while later steps arrive (a row is written once this many newer steps are open).
WINDOW = 256
OUT_OF_ORDER = "values at a step at or before one already imported for their key"


class Rows:
    """Collects points into rows and hands each finished row to ``emit(row, wall_time)``."""

    def __init__(
        self,
        emit: Callable[[dict[str, Any], float], None],
        last_steps: dict[str, int],
        start_time: Callable[[], float],
        skipped: Counter[str],
    ) -> None:
        self._emit = emit
        self._last = last_steps  # shared with the import cursor
        self._start = start_time
        self._skipped = skipped
        self._open: dict[int, dict[str, Any]] = {}
        self._steps: list[int] = []  # heap of the open rows' steps

    def accepts(self, key: str, step: int) -> bool:
        """Whether a value of ``key`` at ``step`` is new; if not, it is counted as skipped."""
        last = self._last.get(key)
        if last is not None and step <= last:
            self._skipped[OUT_OF_ORDER] += 1
            return False
        return True

    def add(self, key: str, step: int, wall: float, value: Any) -> None:
        """Add one point that ``accepts`` took."""
        self._last[key] = step
        row = self._open.get(step)
        if row is None:
            if len(self._open) >= WINDOW:
                self._write(heapq.heappop(self._steps))
            row = self._open[step] = {"_step": step, "_timestamp": wall}
            heapq.heappush(self._steps, step)
        row[key] = value

    def flush(self) -> None:
        """Write every open row."""
        while self._steps:
            self._write(heapq.heappop(self._steps))

    def _write(self, step: int) -> None:
        row = self._open.pop(step)
        wall = row["_timestamp"]
        row["_runtime"] = max(wall - self._start(), 0.0)
        self._emit(row, wall)
