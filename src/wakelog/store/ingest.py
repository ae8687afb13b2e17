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

import msgspec
import numpy as np
import sqlalchemy as sa

from wakelog._names import check_file_name
from wakelog.runlog import RecordType
from wakelog.store import series as codec
from wakelog.store.database import Database
from wakelog.store.members import create_entity
from wakelog.store.schema import (
    STREAM_HISTORY,
    STREAM_SYSTEM,
    alerts,
    console_lines,
    history_objects,
    projects,
    run_files,
    runs,
    series_chunks,
    summaries,
)
from wakelog.store.upsert import insert_missing, upsert

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


_batch_decoder = msgspec.msgpack.Decoder(list[tuple[int, str, float, Any]])


def decode_batch(body: bytes) -> list[Record]:
    """A MessagePack body into checked records; ``IngestError`` says what and where is wrong."""
    try:
        return validate(_batch_decoder.decode(body))
    except msgspec.ValidationError as exc:
        raise IngestError(f"each record must be [seq, type, time, data]: {exc}") from None
    except msgspec.DecodeError as exc:
        raise IngestError(f"the body is not a MessagePack list of records: {exc}") from None


def validate(records: Any) -> list[Record]:
    """Check the batch's shape; raise ``IngestError`` naming the first problem."""
    if not isinstance(records, list):
        raise IngestError(f"the body must be a list of records, not a {type(records).__name__}")
    checked: list[Record] = []
    checked_keys: set[tuple[Any, ...]] = set()
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
            keys = tuple(data)
            if keys not in checked_keys:  # rows repeat their keys: check each key set once
                for key in keys:
                    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
                        raise IngestError(f"{where} (seq {seq}): bad metric key {key!r}")
                checked_keys.add(keys)
        if kind in _KNOWN_TYPES:
            _check_record(seq, kind, data, f"{where} (seq {seq})")
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
    history: list[dict[str, Any]] = []
    for _seq, kind, when, data in records:
        if kind == RecordType.HISTORY:
            history.append(data)
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
    if history:
        _gather_history(history, batch)
    return batch


_NUMBER_TYPES = frozenset((float, int, bool))


def _gather_history(rows: list[dict[str, Any]], batch: _Batch) -> None:
    """Rows to per-key columns. Rows with the same keys are handled as one block (the usual
    case: every step logs the same metrics), so the per-point work is C-level list building."""
    blocks: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        blocks[tuple(row)].append(row)
    last: dict[str, tuple[int, Any]] = {}
    for keys, members in blocks.items():
        if any(type(members[0][key]) is dict for key in keys):
            members = [_flatten(row) for row in members]
            for row in members:  # nested rows may differ in shape: one at a time
                _add_block(tuple(row), [row], batch, last)
            continue
        _add_block(keys, members, batch, last)
    batch.last_step = max(step for step, _ in last.values()) if last else -1
    for key, (_, value) in last.items():
        if not key.startswith("_"):
            batch.summary_update[key] = value
            batch.summary_remove.discard(key)


def _add_block(keys: tuple[str, ...], members: list[dict[str, Any]], batch: _Batch, last: dict) -> None:
    steps = [row["_step"] for row in members]
    final_step = steps[-1]
    for key in keys:
        if key == "_step":
            continue
        column = [row[key] for row in members]
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
                    batch.objects.append({"key": key, "step": step, "value": value})
        if key not in last or last[key][0] <= final_step:
            last[key] = (final_step, column[-1])


def ensure_run(
    conn: sa.Connection, entity: str, project: str, run_id: str, user_id: int | None
) -> tuple[Any, bool]:
    """The run's row (locked for update on PostgreSQL), created with its project (and entity) if new.

    Creation is INSERT … ON CONFLICT DO NOTHING and a second look: two transactions creating the
    same entity, project or run at once (two replicas, two server threads) both succeed, and on
    PostgreSQL the second waits for the first and then locks the row it made. Whether ``user_id``
    may write there, or create the entity, is for the caller to check (server/permissions.py).
    """
    now = time.time()
    entity_id, _ = create_entity(conn, entity, user_id)  # a new entity's creator administers it
    project_id = _get_or_create(
        conn,
        projects,
        {"entity_id": entity_id, "name": project},
        {"created_at": now, "updated_at": now},
        ["entity_id", "name"],
    )
    query = sa.select(runs).where(runs.c.project_id == project_id, runs.c.run_id == run_id).with_for_update()
    row = conn.execute(query).first()
    if row is not None:
        return row, False
    created = insert_missing(
        conn,
        runs,
        {
            "project_id": project_id,
            "run_id": run_id,
            "state": "running",
            "tags": [],
            "config": {},
            "summary": {},
            "run_metadata": {},
            "metric_defs": {},
            "created_by": user_id,
            "created_at": now,
            "updated_at": now,
            "heartbeat_at": now,
            "last_step": -1,
            "last_seq": -1,
        },
        ["project_id", "run_id"],
    )
    return conn.execute(query).one(), created


def _get_or_create(
    conn: sa.Connection, table: sa.Table, identity: dict[str, Any], extra: dict[str, Any], keys: list[str]
) -> int:
    query = sa.select(table.c.id).where(*(table.c[name] == value for name, value in identity.items()))
    found = conn.execute(query).scalar()
    if found is None:
        insert_missing(conn, table, {**identity, **extra}, keys)
        found = conn.execute(query).scalar_one()
    return found


def apply_batch(
    db: Database, entity: str, project: str, run_id: str, records: list[Record], user_id: int | None = None
) -> IngestResult:
    """Apply ``records`` (already validated) to the run; returns the new ack."""
    with db.write() as conn:
        run, created = ensure_run(conn, entity, project, run_id, user_id)
        fresh = [r for r in records if r[0] > run.last_seq]
        result = IngestResult(ack=run.last_seq, run_pk=run.id, project_id=run.project_id, new_run=created)
        if not fresh:
            # Nothing new (a retry, or an empty batch the uploader sends as a heartbeat): the run
            # is still alive, which is what keeps it from being reported as crashed.
            conn.execute(runs.update().where(runs.c.id == run.id).values(heartbeat_at=time.time()))
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
                [{"run_pk": run.id, **o, "value": json_safe(o["value"])} for o in batch.objects],
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
            conn.execute(alerts.insert(), [{"run_pk": run.id, **json_safe(a)} for a in batch.alerts])
        now = time.time()
        values = _fit_run_fields(batch.run_fields)
        values.update(last_seq=fresh[-1][0], heartbeat_at=now, updated_at=now)
        if batch.last_step > run.last_step:
            values["last_step"] = batch.last_step
        if batch.config:
            values["config"] = {**(run.config or {}), **json_safe(batch.config)}
        if batch.metric_defs:
            values["metric_defs"] = {**(run.metric_defs or {}), **json_safe(batch.metric_defs)}
        if batch.final_summary is not None:
            values["summary"] = json_safe(batch.final_summary)
        elif batch.summary_update or batch.summary_remove:
            summary = {k: v for k, v in (run.summary or {}).items() if k not in batch.summary_remove}
            summary.update(json_safe(batch.summary_update))
            values["summary"] = summary
        conn.execute(runs.update().where(runs.c.id == run.id).values(**values))
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
        sa.select(c.stream, c.key, c.chunk, c.data, c.last_step, c.count.label("points"))
        .join(latest, sa.and_(c.stream == latest.c.stream, c.key == latest.c.key, c.chunk == latest.c.chunk))
        .where(c.run_pk == run_pk)
    )
    for row in rows:
        tails[(row.stream, row.key)] = row
    inserts, updates, total = [], [], 0
    for (stream, key), (steps, values) in points.items():
        step_array = np.asarray(steps, dtype=np.int64)
        value_array = np.asarray(values, dtype=np.float64)
        if len(step_array) > 1 and not np.all(np.diff(step_array) > 0):
            order = np.argsort(step_array, kind="stable")  # blocks of different key sets interleave
            step_array, value_array = step_array[order], value_array[order]
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
        # Only a small tail is rewritten; a bigger one stays as it is and new points start a
        # chunk, so a batch never re-encodes thousands of old points.
        open_chunk = codec.decode(tail.data) if tail is not None and tail.points < codec.MERGE_BELOW else None
        if open_chunk is not None:
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
            {"run_pk": run_pk, "line": start + 1 + i, "stream": stream, "time": when, "text": json_safe(text)}
            for i, (stream, when, text) in enumerate(lines)
        ],
    )


# -- checks and clean-up for what the SQL columns can hold ----------------------------------------

MAX_INT64 = 2**63 - 1
MAX_INT32 = 2**31 - 1
#: How deep maps and lists may nest in record data.
MAX_DEPTH = 64
_SCALARS = frozenset((str, int, float, bool, type(None)))
_RUN_TEXT = {"name": 256, "group_name": 256, "job_type": 128, "notes": None, "host": 256, "state": 16}


def _check_record(seq: int, kind: str, data: dict[str, Any], where: str) -> None:
    """Refuse data the database cannot hold or ``_gather`` cannot read (``IngestError``)."""
    if seq > MAX_INT64:
        raise IngestError(f"{where}: seq is larger than {MAX_INT64}")
    if kind == RecordType.HISTORY:
        if data["_step"] > MAX_INT64:
            raise IngestError(f"{where}: _step is larger than {MAX_INT64}")
        if not _SCALARS.issuperset(map(type, data.values())):
            for key, value in data.items():
                if type(value) is dict and "_type" not in value:
                    _check_nested_keys(value, key + ".", where, 1)
                else:
                    _check_json(value, where, 1)
        return
    _check_json(data, where, 0)
    get = data.get
    if kind == RecordType.STATS:
        runtime = get("_runtime")
        if runtime is not None and not _is_number(runtime, limit=1e12):
            raise IngestError(f"{where}: _runtime must be a finite number of seconds")
        for key in data:
            _check_key(key, where)
    elif kind == RecordType.RUN:
        for name in ("name", "group", "job_type", "notes"):
            if get(name) is not None and not isinstance(get(name), str):
                raise IngestError(f"{where}: {name} must be a string")
        tags = get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise IngestError(f"{where}: tags must be a list of strings")
        if get("start_time") is not None and not _is_number(get("start_time")):
            raise IngestError(f"{where}: start_time must be a finite number")
    elif kind in (RecordType.CONFIG, RecordType.SUMMARY):
        if get("update") is not None and not isinstance(get("update"), dict):
            raise IngestError(f"{where}: update must be a map")
        remove = get("remove")
        if remove is not None and not (isinstance(remove, list) and all(isinstance(k, str) for k in remove)):
            raise IngestError(f"{where}: remove must be a list of keys")
    elif kind == RecordType.OUTPUT:
        lines = get("lines")
        if lines is not None and not isinstance(lines, list):
            raise IngestError(f"{where}: lines must be a list")
        for line in lines or ():
            if not (
                isinstance(line, (list, tuple))
                and len(line) == 3
                and _is_number(line[0])
                and isinstance(line[1], str)
                and isinstance(line[2], str)
            ):
                raise IngestError(f"{where}: each output line must be [time, stream, text]")
    elif kind == RecordType.FILES:
        files = get("files")
        if files is not None and not isinstance(files, list):
            raise IngestError(f"{where}: files must be a list")
        for entry in files or ():
            if not isinstance(entry, dict):
                raise IngestError(f"{where}: each file must be a map")
            try:
                check_file_name(entry.get("name"))
            except ValueError as exc:
                raise IngestError(f"{where}: {exc}") from None
    elif kind == RecordType.EXIT:
        code = get("exit_code")
        if code is not None and not (type(code) is int and -MAX_INT32 - 1 <= code <= MAX_INT32):
            raise IngestError(f"{where}: exit_code must be a 32-bit integer")
        if get("runtime") is not None and not _is_number(get("runtime")):
            raise IngestError(f"{where}: runtime must be a finite number")
        if get("state") is not None and not isinstance(get("state"), str):
            raise IngestError(f"{where}: state must be a string")
        if get("summary") is not None and not isinstance(get("summary"), dict):
            raise IngestError(f"{where}: summary must be a map")


def _is_number(value: Any, limit: float = 1e300) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and abs(value) <= limit


def _check_key(key: Any, where: str) -> None:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise IngestError(f"{where}: bad metric key {key!r:.300}")


def _check_nested_keys(row: dict[str, Any], prefix: str, where: str, depth: int) -> None:
    """A nested history map: its dotted keys must be good metric keys, its values storable."""
    if depth > MAX_DEPTH:
        raise IngestError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    for key, value in row.items():
        if not isinstance(key, str):
            raise IngestError(f"{where}: map keys must be strings, got {key!r:.100}")
        _check_key(prefix + key, where)
        if type(value) is dict and "_type" not in value:
            _check_nested_keys(value, prefix + key + ".", where, depth + 1)
        else:
            _check_json(value, where, depth + 1)


def _check_json(value: Any, where: str, depth: int) -> None:
    """Only what JSON holds: maps with string keys, lists, strings, numbers, booleans, null."""
    kind = type(value)
    if kind in _SCALARS:
        return
    if depth > MAX_DEPTH:
        raise IngestError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise IngestError(f"{where}: map keys must be strings, got {key!r:.100}")
            if type(item) not in _SCALARS:
                _check_json(item, where, depth + 1)
    elif kind is list or kind is tuple:
        for item in value:
            if type(item) not in _SCALARS:
                _check_json(item, where, depth + 1)
    else:
        raise IngestError(f"{where}: values of type {kind.__name__} are not supported")


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


def _fit_run_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Run columns cut to their SQL sizes, JSON columns made storable."""
    values = {}
    for name, value in fields.items():
        if name in _RUN_TEXT and isinstance(value, str):
            limit = _RUN_TEXT[name]
            value = json_safe(value)[:limit] if limit else json_safe(value)
        elif name in ("tags", "run_metadata"):
            value = json_safe(value)
        values[name] = value
    return values
