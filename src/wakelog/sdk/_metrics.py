"""``define_metric`` definitions and the run summary they shape.

The ``SummaryTracker`` lives on the writer thread: it sees every committed history row in order,
keeps last / min / max / first / mean per key, applies ``step_sync`` (a row that logs
``train/loss`` also gets the latest ``train/step``), and answers what the summary is now.
Matching follows wandb: an exact definition wins, else the longest trailing-``*`` glob prefix;
keys starting with ``_`` are never matched.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass
from typing import Any

from wakelog.errors import UsageError

SUMMARY_OPS = ("min", "max", "mean", "first", "last", "best", "none")
_DEPRECATED_OPS = {"copy": "last"}
GOALS = ("minimize", "maximize")


@dataclass(frozen=True)
class MetricDefinition:
    """One ``define_metric`` call, validated."""

    name: str
    step_metric: str | None = None
    step_sync: bool = False
    hidden: bool = False
    summary: tuple[str, ...] = ()
    goal: str | None = None

    @property
    def is_glob(self) -> bool:
        return self.name.endswith("*")

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["summary"] = list(self.summary)
        return record

    @classmethod
    def build(
        cls,
        name: Any,
        step_metric: Any = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
    ) -> MetricDefinition:
        if not isinstance(name, str) or not name:
            raise UsageError(f"define_metric: name must be a non-empty string, got {name!r}")
        if "*" in name[:-1]:
            raise UsageError(f"define_metric: {name!r}: a glob may only be a trailing '*' (like 'train/*')")
        if step_metric is not None and (
            not isinstance(step_metric, str) or not step_metric or "*" in step_metric
        ):
            raise UsageError(
                f"define_metric: step_metric must be a metric name without '*', got {step_metric!r}"
            )
        ops: list[str] = []
        for op in (summary or "").split(","):
            op = op.strip().lower()
            if not op:
                continue
            if op in _DEPRECATED_OPS:
                op = _DEPRECATED_OPS[op]
            if op not in SUMMARY_OPS:
                raise UsageError(f"define_metric: summary {op!r} is not one of {', '.join(SUMMARY_OPS)}")
            if op not in ops:
                ops.append(op)
        if goal is not None and goal not in GOALS:
            raise UsageError(f"define_metric: goal must be 'minimize' or 'maximize', got {goal!r}")
        return cls(
            name=name,
            step_metric=step_metric,
            step_sync=bool(step_metric) if step_sync is None else bool(step_sync),
            hidden=bool(hidden),
            summary=tuple(ops),
            goal=goal,
        )

    def merged_over(self, older: MetricDefinition) -> MetricDefinition:
        """This definition with the fields it leaves unset taken from ``older`` (overwrite=False)."""
        return MetricDefinition(
            name=self.name,
            step_metric=self.step_metric or older.step_metric,
            step_sync=self.step_sync or older.step_sync,
            hidden=self.hidden or older.hidden,
            summary=self.summary or older.summary,
            goal=self.goal or older.goal,
        )


class _Stats:
    __slots__ = ("count", "first", "last", "max", "min", "total")

    def __init__(self, value: Any) -> None:
        self.last = value
        self.first = value
        self.count = 0
        self.total = 0.0
        self.min = self.max = None
        self.add_number(value)

    def add_number(self, value: Any) -> None:
        if type(value) in (int, float) and not math.isnan(value):
            self.count += 1
            self.total += value
            if self.min is None or value < self.min:
                self.min = value
            if self.max is None or value > self.max:
                self.max = value

    def view(self, ops: tuple[str, ...], goal: str | None = None) -> Any:
        if not ops:
            return self.last
        values = {
            "min": self.min,
            "max": self.max,
            # wandb: the best by the goal, the smallest when no goal says otherwise
            "best": self.max if goal == "maximize" else self.min,
            "first": self.first,
            "last": self.last,
            "mean": self.total / self.count if self.count else None,
        }
        return {op: values[op] for op in ops}


class SummaryTracker:
    """Metric definitions plus the running summary. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exact: dict[str, MetricDefinition] = {}
        self._globs: list[MetricDefinition] = []
        self._stats: dict[str, _Stats] = {}
        self._overrides: dict[str, Any] = {}
        self._last_step_values: dict[str, Any] = {}
        self._step_metrics: set[str] = set()

    def define(self, definition: MetricDefinition) -> None:
        with self._lock:
            if definition.is_glob:
                self._globs = [d for d in self._globs if d.name != definition.name]
                self._globs.append(definition)
                self._globs.sort(key=lambda d: len(d.name), reverse=True)
            else:
                self._exact[definition.name] = definition
            if definition.step_metric:
                self._step_metrics.add(definition.step_metric)

    def definition(self, key: str) -> MetricDefinition | None:
        if key.startswith("_"):
            return None
        found = self._exact.get(key)
        if found is not None:
            return found
        for glob in self._globs:
            if key.startswith(glob.name[:-1]):
                return glob
        return None

    def observe(self, row: dict[str, Any]) -> None:
        """Fold one committed row into the summary, after adding ``step_sync`` values to it."""
        with self._lock:
            if self._exact or self._globs:
                self._sync_steps(row)
            stats = self._stats
            for key, value in row.items():
                entry = stats.get(key)
                if entry is None:
                    stats[key] = _Stats(value)
                else:
                    entry.last = value
                    entry.add_number(value)
                if self._overrides:
                    self._overrides.pop(key, None)

    def _sync_steps(self, row: dict[str, Any]) -> None:
        for key in self._step_metrics.intersection(row):
            self._last_step_values[key] = row[key]
        additions = {}
        for key in row:
            definition = self.definition(key)
            step_metric = definition.step_metric if definition and definition.step_sync else None
            if step_metric is not None and step_metric not in row:
                last = self._last_step_values.get(step_metric)
                if last is not None:
                    additions[step_metric] = last
        row.update(additions)

    def override(self, update: dict[str, Any], remove: list[str]) -> None:
        with self._lock:
            self._overrides.update(update)
            for key in remove:
                self._overrides.pop(key, None)
                self._stats.pop(key, None)
            for key in update:
                self._stats.pop(key, None)

    def snapshot(self) -> dict[str, Any]:
        """The summary as a user sees it: last values, or the ops ``define_metric`` asked for."""
        with self._lock:
            summary: dict[str, Any] = {}
            for key, entry in self._stats.items():
                definition = self.definition(key)
                ops = definition.summary if definition else ()
                if "none" in ops:
                    continue
                summary[key] = entry.view(ops, definition.goal if definition else None)
            summary.update(self._overrides)
            return summary

    def seed(self, summary: dict[str, Any]) -> None:
        """Start from a resumed run's summary."""
        with self._lock:
            self._overrides.update(summary)
