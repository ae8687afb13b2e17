"""Checked records into what one batch changes, per table: series points, summary, run fields, rows.

History rows are the bulk of every batch and take the fast path (``_gather_history``: rows with the
same keys become columns in one go); every other record type has a small gatherer of its own.
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wakelog._names import MAX_FILE_NAME, check_file_name
from wakelog.runlog import RecordType
from wakelog.store.ingest._validate import Record
from wakelog.store.schema import STREAM_HISTORY, STREAM_SYSTEM

#: (stream, key) → (steps, values): history by step (``_in_step_order``), system metrics as they came;
#: a key seen first gets two empty lists.
Points = defaultdict[tuple[int, str], tuple[list[int], list[float]]]

_IDENTITY_FIELDS = {
    "name": "name",
    "group": "group_name",
    "job_type": "job_type",
    "tags": "tags",
    "notes": "notes",
}
_NUMBER_TYPES = frozenset((float, int, bool))


def _new_points() -> Points:
    return defaultdict(lambda: ([], []))


@dataclass
class Batch:
    """What one batch changes, gathered before the writes."""

    run_fields: dict[str, Any] = field(default_factory=dict)
    #: When the run log recorded each identity field of ``run_fields`` (for last-writer-wins).
    field_times: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    summary_update: dict[str, Any] = field(default_factory=dict)
    summary_remove: set[str] = field(default_factory=set)
    final_summary: dict[str, Any] | None = None
    metric_defs: dict[str, Any] = field(default_factory=dict)
    points: Points = field(default_factory=_new_points)
    objects: list[dict[str, Any]] = field(default_factory=list)
    lines: list[tuple[str, float, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    #: The run's end, when the batch has it: {"state", "exit_code", "error"} (the traceback's last line).
    exit: dict[str, Any] | None = None
    #: Files left out for a name the server does not take (``_names.check_file_name``).
    refused_files: list[dict[str, str]] = field(default_factory=list)
    #: Declared gaps: {"first", "last", "reason"} for records the client's log lost to damage.
    lost: list[dict[str, Any]] = field(default_factory=list)
    last_step: int = -1


def gather(records: list[Record]) -> Batch:
    batch = Batch()
    history: list[dict[str, Any]] = []
    #: Summary keys set or removed by a summary record → how many history rows came before it.
    marks: dict[str, int] = {}
    gatherers = _GATHERERS
    for seq, kind, when, data in records:
        if kind == RecordType.HISTORY:
            history.append(data)
        elif kind == RecordType.LOST:
            batch.lost.append({"first": seq, "last": data["last"], "reason": data.get("reason", "")})
        else:
            gatherer = gatherers.get(kind)
            if gatherer is not None:
                gatherer(batch, when, data)
            if kind == RecordType.SUMMARY and history and data.get("whole") is not True:
                edited = [*(data.get("update") or {}), *(data.get("remove") or [])]
                marks.update(dict.fromkeys(edited, len(history)))
    if history:
        explicit = {key: batch.summary_update.get(key, _REMOVED) for key in marks}
        _gather_history(history, batch)
        _keep_later_summary_edits(batch, history, marks, explicit)
    return batch


#: An explicit summary edit that removed its key.
_REMOVED = object()


def _keep_later_summary_edits(
    batch: Batch, history: list[dict[str, Any]], marks: dict[str, int], explicit: dict[str, Any]
) -> None:
    """A summary record after a key's last history row wins over the row's value (wandb's order:
    ``run.log({"acc": 0.5}); run.summary["acc"] = 0.9`` leaves 0.9), as one before it loses."""
    for key, before in marks.items():
        if any(_logs(row, key) for row in history[before:]):
            continue
        value = explicit[key]
        if value is _REMOVED:
            batch.summary_update.pop(key, None)
            batch.summary_remove.add(key)
        else:
            batch.summary_update[key] = value
            batch.summary_remove.discard(key)


def _logs(row: dict[str, Any], key: str) -> bool:
    """Whether a history row logs ``key``, a nested one by its dotted name (``eval.acc``)."""
    if key in row:
        return True
    head, dot, rest = key.partition(".")
    return bool(dot) and isinstance(row.get(head), dict) and _logs(row[head], rest)


def _gather_stats(batch: Batch, _when: float, data: dict[str, Any]) -> None:
    runtime = data.get("_runtime", 0.0)
    step = round(runtime * 1000) if isinstance(runtime, (int, float)) else 0
    for key, value in data.items():
        if key != "_runtime" and type(value) in (int, float):
            steps, values = batch.points[(STREAM_SYSTEM, key)]
            steps.append(step)
            values.append(float(value))


def _gather_run(batch: Batch, when: float, data: dict[str, Any]) -> None:
    for source, column in _IDENTITY_FIELDS.items():
        if source in data:
            batch.run_fields[column] = data[source]
            batch.field_times[column] = when
    if "start_time" in data:
        batch.run_fields["created_at"] = float(data["start_time"])
    if not data.get("update"):  # a start (or a resume): an earlier end's traceback is over
        batch.run_fields["state"] = "running"
        batch.run_fields["traceback"] = None
        batch.run_fields["stop_requested_at"] = None  # a stop asked of its last life is not for this one
    elif data.get("preempting") is True:  # run.mark_preempting(): "preempted" once it goes quiet
        batch.run_fields["state"] = "preempting"


def _gather_config(batch: Batch, _when: float, data: dict[str, Any]) -> None:
    batch.config.update(data.get("update") or {})


def _gather_summary(batch: Batch, _when: float, data: dict[str, Any]) -> None:
    if data.get("whole") is True:
        # The summary as a whole (the wandb client sends it so), like an exit's: it wins over the
        # last values the batch's history rows would set.
        batch.final_summary = dict(data.get("update") or {})
        return
    for key, value in (data.get("update") or {}).items():
        batch.summary_update[key] = value
        batch.summary_remove.discard(key)
    for key in data.get("remove") or []:
        batch.summary_update.pop(key, None)
        batch.summary_remove.add(key)


def _gather_metric(batch: Batch, _when: float, data: dict[str, Any]) -> None:
    if isinstance(data.get("name"), str):
        batch.metric_defs[data["name"]] = data


def _gather_output(batch: Batch, _when: float, data: dict[str, Any]) -> None:
    for line in data.get("lines") or []:
        if isinstance(line, (list, tuple)) and len(line) == 3:
            batch.lines.append((str(line[1])[:8], float(line[0]), str(line[2])))


def _gather_files(batch: Batch, _when: float, data: dict[str, Any]) -> None:
    for entry in data.get("files") or []:
        sent: Any = entry.get("name")  # whatever the client sent: check_file_name refuses non-strings
        try:
            name = check_file_name(sent)
        except ValueError as exc:
            batch.refused_files.append({"name": str(sent)[:MAX_FILE_NAME], "detail": str(exc)[:2000]})
            continue
        batch.files[name] = str(entry.get("policy", "end"))[:8]


def _gather_metadata(batch: Batch, _when: float, data: dict[str, Any]) -> None:
    batch.run_fields["run_metadata"] = data
    if isinstance(data.get("host"), str):
        batch.run_fields["host"] = data["host"][:256]


def _gather_alert(batch: Batch, when: float, data: dict[str, Any]) -> None:
    batch.alerts.append(
        {
            "title": str(data.get("title", ""))[:256],
            "text": str(data.get("text", "")),
            "level": str(data.get("level", "INFO"))[:8],
            "time": when,
            "wait_duration": _seconds(data.get("wait_duration")),
        }
    )


def _seconds(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) and math.isfinite(value) else None


def _last_line(text: Any) -> str | None:
    """The traceback's last non-blank line: the exception and its message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()] if isinstance(text, str) else []
    return lines[-1][:1000] if lines else None


def _gather_exit(batch: Batch, when: float, data: dict[str, Any]) -> None:
    batch.run_fields.update(
        state=str(data.get("state", "finished"))[:16],
        exit_code=data.get("exit_code"),
        finished_at=when,
        runtime=data.get("runtime"),
        traceback=data.get("traceback") if isinstance(data.get("traceback"), str) else None,
    )
    if isinstance(data.get("summary"), dict):
        batch.final_summary = data["summary"]
    exit_code = data.get("exit_code")
    batch.exit = {
        "state": batch.run_fields["state"],
        "exit_code": exit_code if type(exit_code) is int else None,
        "error": _last_line(data.get("traceback")),
    }


_GATHERERS: dict[str, Callable[[Batch, float, dict[str, Any]], None]] = {
    RecordType.STATS: _gather_stats,
    RecordType.RUN: _gather_run,
    RecordType.CONFIG: _gather_config,
    RecordType.SUMMARY: _gather_summary,
    RecordType.METRIC: _gather_metric,
    RecordType.OUTPUT: _gather_output,
    RecordType.FILES: _gather_files,
    RecordType.METADATA: _gather_metadata,
    RecordType.ALERT: _gather_alert,
    RecordType.EXIT: _gather_exit,
}


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts of values become dotted keys ("eval": {"acc": 1} -> "eval.acc")."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = prefix + key
        if isinstance(value, dict) and "_type" not in value:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _gather_history(rows: list[dict[str, Any]], batch: Batch) -> None:
    """Rows to per-key columns. Rows with the same keys are handled as one block (the usual
    case: every step logs the same metrics), so the per-point work is C-level list building."""
    blocks: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        blocks[tuple(row)].append(row)
    last: dict[str, tuple[int, Any]] = {}
    for keys, members in blocks.items():
        if any(type(members[0][key]) is dict for key in keys):
            for row in map(_flatten, members):  # nested rows may differ in shape: one at a time
                _add_block(tuple(row), [row], batch, last)
            continue
        _add_block(keys, members, batch, last)
    if len(blocks) > 1:
        _in_step_order(batch.points)
    batch.last_step = max(step for step, _ in last.values()) if last else -1
    for key, (_, value) in last.items():
        if not key.startswith("_"):
            batch.summary_update[key] = value
            batch.summary_remove.discard(key)


def _in_step_order(points: Points) -> None:
    """Each history key's points sorted by step (stable: a repeated step keeps the order it came in).
    Blocks are gathered one after the other, so a key logged in two of them (``loss`` every step,
    ``loss`` with ``eval/acc`` every 100th) has its points out of order; its first and last value
    (the summaries') are the first and last step's."""
    for (stream, _key), (steps, values) in points.items():
        if stream == STREAM_HISTORY and not all(map(operator.le, steps, steps[1:])):
            order = sorted(range(len(steps)), key=steps.__getitem__)
            steps[:] = [steps[i] for i in order]
            values[:] = [values[i] for i in order]


def _checked_paths(value: Any) -> Any:
    """A media stub whose ``path`` (at any depth: a chart's table) is no run file name keeps
    everything but that path: it is dropped, with the reason as ``path_refused``. Never a way out
    of the run's files for the web app's links, never a refused batch."""
    if type(value) is list:
        return [_checked_paths(item) for item in value]
    if type(value) is not dict:
        return value
    checked = {key: _checked_paths(item) for key, item in value.items()}
    if "path" in checked:
        try:
            check_file_name(checked["path"])
        except ValueError as exc:
            del checked["path"]
            checked["path_refused"] = str(exc)[:2000]
    return checked


def _add_block(
    keys: tuple[str, ...], members: list[dict[str, Any]], batch: Batch, last: dict[str, tuple[int, Any]]
) -> None:
    """One block of rows with the same keys: numbers to series points, anything else to objects.
    The rows' keys are in the same order (``keys``), so one transpose makes every key's column."""
    columns = dict(zip(keys, zip(*[row.values() for row in members], strict=True), strict=True))
    steps = columns.pop("_step")
    final_step = steps[-1]
    for key, column in columns.items():
        if _NUMBER_TYPES.issuperset(map(type, column)):
            step_list, value_list = batch.points[(STREAM_HISTORY, key)]
            step_list.extend(steps)
            value_list.extend(column)
        else:
            for step, value in zip(steps, column, strict=True):
                if type(value) in _NUMBER_TYPES:
                    step_list, value_list = batch.points[(STREAM_HISTORY, key)]
                    step_list.append(step)
                    value_list.append(value)
                else:
                    batch.objects.append({"key": key, "step": step, "value": _checked_paths(value)})
        if key not in last or last[key][0] <= final_step:
            last[key] = (final_step, column[-1])
