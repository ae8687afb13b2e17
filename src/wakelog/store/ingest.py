"""Apply a batch of run-log records to the database: once, in order, in one transaction.

The uploader sends records with their run-local sequence numbers. A batch is checked whole
before anything is written (``IngestError`` names the first bad record), then applied in one
transaction: records at or below the run's ``last_seq`` are duplicates and skipped, the rest must
continue it without a gap (``SequenceGap`` carries the ack so the client resends from there).
The new ``last_seq`` is the ack. Replays and retries are therefore no-ops.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from wakelog.runlog import RecordType
from wakelog.store import series as codec
from wakelog.store.database import Database
from wakelog.store.schema import (
    STREAM_HISTORY,
    STREAM_SYSTEM,
    alerts,
    console_lines,
    entities,
    history_objects,
    projects,
    run_files,
    runs,
    series_chunks,
    summaries,
)
from wakelog.store.upsert import upsert

MAX_KEY_LENGTH = 256
_SPECIAL = ("_step", "_runtime", "_timestamp")
_KNOWN_TYPES = {
    RecordType.RUN,
    RecordType.CONFIG,
    RecordType.HISTORY,
    RecordType.SUMMARY,
    RecordType.METRIC,
    RecordType.STATS,
    RecordType.OUTPUT,
    RecordType.FILES,
    RecordType.METADATA,
    RecordType.ALERT,
    RecordType.EXIT,
}
_IDENTITY_FIELDS = {
    "name": "name",
    "group": "group_name",
    "job_type": "job_type",
    "tags": "tags",
    "notes": "notes",
}


class IngestError(ValueError):
    """A malformed batch; nothing of it was applied."""


class SequenceGap(Exception):
    """The batch does not continue the run's records; resend from ``ack + 1``."""

    def __init__(self, ack: int, first: int) -> None:
        super().__init__(f"records must continue from seq {ack + 1}, the batch starts at {first}")
        self.ack = ack


@dataclass
class IngestResult:
    ack: int
    run_pk: int
    project_id: int
    applied: int = 0
    points: int = 0
    new_run: bool = False
    state: str | None = None
    keys: set[str] = field(default_factory=set)


Record = tuple[int, str, float, Any]


def validate(records: Any) -> list[Record]:
    """Check the batch's shape; raise ``IngestError`` naming the first problem."""
    if not isinstance(records, list):
        raise IngestError(f"the body must be a list of records, not a {type(records).__name__}")
    checked: list[Record] = []
    previous = -1
    for index, record in enumerate(records):
        where = f"record {index}"
        if not isinstance(record, (list, tuple)) or len(record) != 4:
            raise IngestError(f"{where}: must be [seq, type, time, data]")
        seq, kind, when, data = record
        if type(seq) is not int or seq < 0:
            raise IngestError(f"{where}: seq must be an integer ≥ 0, got {seq!r}")
        if seq <= previous:
            raise IngestError(f"{where}: seq {seq} does not increase (after {previous})")
        if not isinstance(kind, str):
            raise IngestError(f"{where} (seq {seq}): type must be a string")
        if type(when) not in (int, float) or not math.isfinite(when):
            raise IngestError(f"{where} (seq {seq}): time must be a finite number")
        if kind in _KNOWN_TYPES and not isinstance(data, dict):
            raise IngestError(f"{where} (seq {seq}): {kind} data must be a map")
        if kind == RecordType.HISTORY:
            step = data.get("_step")
            if type(step) is not int or step < 0:
                raise IngestError(f"{where} (seq {seq}): history row needs an integer _step ≥ 0")
            for key in data:
                if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
                    raise IngestError(f"{where} (seq {seq}): bad metric key {key!r}")
        previous = seq
        checked.append((seq, kind, float(when), data))
    return checked


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


@dataclass
class _Batch:
    """What one batch changes, gathered before the writes."""

    run_fields: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    summary_update: dict[str, Any] = field(default_factory=dict)
    summary_remove: set[str] = field(default_factory=set)
    final_summary: dict[str, Any] | None = None
    metric_defs: dict[str, Any] = field(default_factory=dict)
    points: dict[tuple[int, str], tuple[list[int], list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: ([], []))
    )
    objects: list[dict[str, Any]] = field(default_factory=list)
    lines: list[tuple[str, float, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    last_step: int = -1


def _gather(records: list[Record]) -> _Batch:
    batch = _Batch()
    points = batch.points
    for _seq, kind, when, data in records:
        if kind == RecordType.HISTORY:
            step = data["_step"]
            batch.last_step = max(batch.last_step, step)
            for key, value in _flatten(data).items():
                if key == "_step":
                    continue
                kind_of = type(value)
                if kind_of is float or kind_of is int or kind_of is bool:
                    steps, values = points[(STREAM_HISTORY, key)]
                    steps.append(step)
                    values.append(float(value))
                    if not key.startswith("_"):
                        batch.summary_update[key] = value
                else:
                    batch.objects.append({"key": key, "step": step, "value": value})
                    if not key.startswith("_"):
                        batch.summary_update[key] = value
                batch.summary_remove.discard(key)
        elif kind == RecordType.STATS:
            runtime = data.get("_runtime", 0.0)
            step = round(runtime * 1000) if isinstance(runtime, (int, float)) else 0
            for key, value in data.items():
                if key != "_runtime" and type(value) in (int, float):
                    steps, values = points[(STREAM_SYSTEM, key)]
                    steps.append(step)
                    values.append(float(value))
        elif kind == RecordType.RUN:
            for source, column in _IDENTITY_FIELDS.items():
                if source in data:
                    batch.run_fields[column] = data[source]
            if "start_time" in data:
                batch.run_fields["created_at"] = float(data["start_time"])
            if not data.get("update"):
                batch.run_fields["state"] = "running"
        elif kind == RecordType.CONFIG:
            batch.config.update(data.get("update") or {})
        elif kind == RecordType.SUMMARY:
            for key, value in (data.get("update") or {}).items():
                batch.summary_update[key] = value
                batch.summary_remove.discard(key)
            for key in data.get("remove") or []:
                batch.summary_update.pop(key, None)
                batch.summary_remove.add(key)
        elif kind == RecordType.METRIC:
            if isinstance(data.get("name"), str):
                batch.metric_defs[data["name"]] = data
        elif kind == RecordType.OUTPUT:
            for line in data.get("lines") or []:
                if isinstance(line, (list, tuple)) and len(line) == 3:
                    batch.lines.append((str(line[1])[:8], float(line[0]), str(line[2])))
        elif kind == RecordType.FILES:
            for entry in data.get("files") or []:
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    batch.files[entry["name"]] = str(entry.get("policy", "end"))[:8]
        elif kind == RecordType.METADATA:
            batch.run_fields["run_metadata"] = data
            if isinstance(data.get("host"), str):
                batch.run_fields["host"] = data["host"][:256]
        elif kind == RecordType.ALERT:
            batch.alerts.append(
                {
                    "title": str(data.get("title", ""))[:256],
                    "text": str(data.get("text", "")),
                    "level": str(data.get("level", "INFO"))[:8],
                    "time": when,
                }
            )
        elif kind == RecordType.EXIT:
            batch.run_fields.update(
                state=str(data.get("state", "finished"))[:16],
                exit_code=data.get("exit_code"),
                finished_at=when,
                runtime=data.get("runtime"),
            )
            if isinstance(data.get("summary"), dict):
                batch.final_summary = data["summary"]
    return batch


def ensure_run(
    conn: sa.Connection, entity: str, project: str, run_id: str, user_id: int | None
) -> tuple[Any, bool]:
    """The run's row (locked for update on PostgreSQL), created with its project if new."""
    now = time.time()
    entity_id = conn.execute(sa.select(entities.c.id).where(entities.c.name == entity)).scalar()
    if entity_id is None:
        entity_id = conn.execute(entities.insert().values(name=entity, created_at=now)).inserted_primary_key[
            0
        ]
    project_id = conn.execute(
        sa.select(projects.c.id).where(projects.c.entity_id == entity_id, projects.c.name == project)
    ).scalar()
    if project_id is None:
        project_id = conn.execute(
            projects.insert().values(entity_id=entity_id, name=project, created_at=now, updated_at=now)
        ).inserted_primary_key[0]
    query = sa.select(runs).where(runs.c.project_id == project_id, runs.c.run_id == run_id)
    row = conn.execute(query.with_for_update()).first()
    if row is not None:
        return row, False
    conn.execute(
        runs.insert().values(
            project_id=project_id,
            run_id=run_id,
            state="running",
            tags=[],
            config={},
            summary={},
            run_metadata={},
            metric_defs={},
            created_by=user_id,
            created_at=now,
            updated_at=now,
            heartbeat_at=now,
            last_step=-1,
            last_seq=-1,
        )
    )
    return conn.execute(query).first(), True


def apply_batch(
    db: Database, entity: str, project: str, run_id: str, records: list[Record], user_id: int | None = None
) -> IngestResult:
    """Apply ``records`` (already validated) to the run; returns the new ack."""
    with db.write() as conn:
        run, created = ensure_run(conn, entity, project, run_id, user_id)
        fresh = [r for r in records if r[0] > run.last_seq]
        result = IngestResult(ack=run.last_seq, run_pk=run.id, project_id=run.project_id, new_run=created)
        if not fresh:
            return result
        if fresh[0][0] != run.last_seq + 1:
            raise SequenceGap(run.last_seq, fresh[0][0])
        batch = _gather(fresh)
        result.points = _write_series(conn, run.id, batch.points)
        _write_summaries(conn, run.id, batch.points, batch.summary_remove)
        if batch.objects:
            upsert(
                conn,
                history_objects,
                [{"run_pk": run.id, **o} for o in batch.objects],
                ["run_pk", "key", "step"],
            )
        if batch.lines:
            _write_lines(conn, run.id, batch.lines)
        if batch.files:
            now = time.time()
            rows = [
                {"run_pk": run.id, "name": n, "policy": p, "updated_at": now} for n, p in batch.files.items()
            ]
            upsert(conn, run_files, rows, ["run_pk", "name"], update=["policy", "updated_at"])
        if batch.alerts:
            conn.execute(alerts.insert(), [{"run_pk": run.id, **a} for a in batch.alerts])
        now = time.time()
        values = dict(batch.run_fields)
        values.update(last_seq=fresh[-1][0], heartbeat_at=now, updated_at=now)
        if batch.last_step > run.last_step:
            values["last_step"] = batch.last_step
        if batch.config:
            values["config"] = {**(run.config or {}), **batch.config}
        if batch.metric_defs:
            values["metric_defs"] = {**(run.metric_defs or {}), **batch.metric_defs}
        if batch.final_summary is not None:
            values["summary"] = batch.final_summary
        elif batch.summary_update or batch.summary_remove:
            summary = {k: v for k, v in (run.summary or {}).items() if k not in batch.summary_remove}
            summary.update(batch.summary_update)
            values["summary"] = summary
        conn.execute(runs.update().where(runs.c.id == run.id).values(**values))
        conn.execute(projects.update().where(projects.c.id == run.project_id).values(updated_at=now))
        result.ack = fresh[-1][0]
        result.applied = len(fresh)
        result.state = values.get("state")
        result.keys = {key for stream, key in batch.points if stream == STREAM_HISTORY}
        return result


def _write_series(conn: sa.Connection, run_pk: int, points: dict) -> int:
    if not points:
        return 0
    keys = {key for _, key in points}
    tails = {}
    c = series_chunks.c
    latest = (
        sa.select(c.stream, c.key, sa.func.max(c.chunk).label("chunk"))
        .where(c.run_pk == run_pk, c.key.in_(sorted(keys)))
        .group_by(c.stream, c.key)
        .subquery()
    )
    rows = conn.execute(
        sa.select(c.stream, c.key, c.chunk, c.data, c.last_step)
        .join(latest, sa.and_(c.stream == latest.c.stream, c.key == latest.c.key, c.chunk == latest.c.chunk))
        .where(c.run_pk == run_pk)
    )
    for row in rows:
        tails[(row.stream, row.key)] = row
    inserts, updates, total = [], [], 0
    for (stream, key), (steps, values) in points.items():
        step_array = np.asarray(steps, dtype=np.int64)
        value_array = np.asarray(values, dtype=np.float64)
        tail = tails.get((stream, key))
        if tail is not None:
            # A client bug or a clock jump must not break the order chunks rely on.
            keep = step_array > tail.last_step
            step_array, value_array = step_array[keep], value_array[keep]
        if len(step_array) > 1 and not np.all(np.diff(step_array) > 0):
            order = np.unique(step_array, return_index=True)[1]
            step_array, value_array = step_array[order], value_array[order]
        if not len(step_array):
            continue
        total += len(step_array)
        open_chunk = codec.decode(tail.data) if tail is not None else None
        if open_chunk is not None and len(open_chunk) < codec.CHUNK_POINTS:
            chunks = codec.merge(open_chunk, step_array, value_array)
            first_index = tail.chunk
        else:
            chunks = codec.merge(None, step_array, value_array)
            first_index = tail.chunk + 1 if tail is not None else 0
        for offset, chunk in enumerate(chunks):
            row = {
                "run_pk": run_pk,
                "stream": stream,
                "key": key,
                "chunk": first_index + offset,
                "first_step": chunk.first_step,
                "last_step": chunk.last_step,
                "count": len(chunk),
                "data": codec.encode(chunk),
                "sketch": codec.sketch(chunk),
            }
            (updates if tail is not None and row["chunk"] == tail.chunk else inserts).append(row)
    for row in updates:
        conn.execute(
            series_chunks.update()
            .where(
                c.run_pk == run_pk, c.stream == row["stream"], c.key == row["key"], c.chunk == row["chunk"]
            )
            .values(
                first_step=row["first_step"],
                last_step=row["last_step"],
                count=row["count"],
                data=row["data"],
                sketch=row["sketch"],
            )
        )
    if inserts:
        conn.execute(series_chunks.insert(), inserts)
    return total


def _write_summaries(conn: sa.Connection, run_pk: int, points: dict, removed: set[str]) -> None:
    keys = [key for stream, key in points if stream == STREAM_HISTORY and not key.startswith("_")]
    c = summaries.c
    if removed:
        conn.execute(summaries.delete().where(c.run_pk == run_pk, c.key.in_(sorted(removed))))
    if not keys:
        return
    existing = {
        row.key: row for row in conn.execute(sa.select(summaries).where(c.run_pk == run_pk, c.key.in_(keys)))
    }
    rows = []
    for key in keys:
        steps, values = points[(STREAM_HISTORY, key)]
        array = np.asarray(values, dtype=np.float64)
        finite = array[~np.isnan(array)]
        old = existing.get(key)
        new_min = float(finite.min()) if len(finite) else None
        new_max = float(finite.max()) if len(finite) else None
        row = {
            "run_pk": run_pk,
            "key": key,
            "last": _db_float(array[-1]),
            "min": _combine(min, old.min if old else None, new_min),
            "max": _combine(max, old.max if old else None, new_max),
            "first": old.first if old is not None else _db_float(array[0]),
            "total": (old.total if old else 0.0) + float(np.nansum(finite[np.isfinite(finite)])),
            "count": (old.count if old else 0) + len(array),
            "last_step": int(steps[-1]),
        }
        rows.append(row)
    upsert(
        conn,
        summaries,
        rows,
        ["run_pk", "key"],
        update=["last", "min", "max", "first", "total", "count", "last_step"],
    )


def _combine(pick: Any, old: float | None, new: float | None) -> float | None:
    if old is None:
        return _db_float(new)
    if new is None:
        return old
    return _db_float(pick(old, new))


def _db_float(value: float | None) -> float | None:
    """NaN is stored as NULL (SQL cannot order it); ±Inf stay."""
    if value is None or math.isnan(value):
        return None
    return float(value)


def _write_lines(conn: sa.Connection, run_pk: int, lines: list[tuple[str, float, str]]) -> None:
    start = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(console_lines.c.line), -1)).where(
            console_lines.c.run_pk == run_pk
        )
    ).scalar()
    conn.execute(
        console_lines.insert(),
        [
            {"run_pk": run_pk, "line": start + 1 + i, "stream": stream, "time": when, "text": text}
            for i, (stream, when, text) in enumerate(lines)
        ],
    )
