"""Checks of one record's data: refuse what the database cannot hold or the gatherer cannot read.

A history row gets ``check_history`` (the hot path: its key set is checked once per batch, its values
only when one is not a scalar); every other known record type gets ``check_record``, whose per-type
check looks at the fields the gatherer reads. All raise ``IngestError`` with ``where`` in front.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from wakelog.runlog import RecordType
from wakelog.store.fork import fork_point_problem
from wakelog.store.ingest._columns import MAX_INT32, MAX_INT64
from wakelog.store.ingest._errors import IngestError

MAX_KEY_LENGTH = 256
#: How deep maps and lists may nest in record data.
MAX_DEPTH = 64
_SCALARS = frozenset((str, int, float, bool, type(None)))


def record_at(index: int, seq: int) -> str:
    """How an error names the record at ``index`` of its batch."""
    return f"record {index} (seq {seq})"


def check_history(index: int, seq: int, data: dict[str, Any], key_sets: set[tuple[Any, ...]]) -> None:
    """The history row at ``index`` of its batch: an integer ``_step``, good metric keys, storable
    values. ``key_sets`` holds the key sets already checked in this batch: rows repeat their keys.
    (The record's name, ``record_at``, is made only for an error: a live batch's every row comes
    here.)"""
    step = data.get("_step")
    if type(step) is not int or step < 0:
        raise IngestError(f"{record_at(index, seq)}: history row needs an integer _step ≥ 0")
    keys = tuple(data)
    if keys not in key_sets:
        for key in keys:
            if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
                raise IngestError(f"{record_at(index, seq)}: bad metric key {key!r}")
        key_sets.add(keys)
    if seq > MAX_INT64:
        raise IngestError(f"{record_at(index, seq)}: seq is larger than {MAX_INT64}")
    if step > MAX_INT64:
        raise IngestError(f"{record_at(index, seq)}: _step is larger than {MAX_INT64}")
    if not _SCALARS.issuperset(map(type, data.values())):
        for key, value in data.items():
            if type(value) is dict and "_type" not in value:
                _check_nested_keys(value, key + ".", record_at(index, seq), 1)
            else:
                _check_json(value, record_at(index, seq), 1)


def check_record(seq: int, kind: str, data: dict[str, Any], where: str) -> None:
    """Any known record type but history: storable JSON, and the fields the gatherer reads well-typed."""
    if seq > MAX_INT64:
        raise IngestError(f"{where}: seq is larger than {MAX_INT64}")
    _check_json(data, where, 0)
    if kind == RecordType.LOST:
        _check_lost(seq, data, where)
    check = _DATA_CHECKS.get(kind)
    if check is not None:
        check(data, where)


def _check_stats(data: dict[str, Any], where: str) -> None:
    runtime = data.get("_runtime")
    if runtime is not None and not _is_number(runtime, limit=1e12):
        raise IngestError(f"{where}: _runtime must be a finite number of seconds")
    for key in data:
        _check_key(key, where)


def _check_run(data: dict[str, Any], where: str) -> None:
    get = data.get
    for name in ("name", "group", "job_type", "notes"):
        if get(name) is not None and not isinstance(get(name), str):
            raise IngestError(f"{where}: {name} must be a string")
    tags = get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise IngestError(f"{where}: tags must be a list of strings")
    if get("start_time") is not None and not _is_number(get("start_time")):
        raise IngestError(f"{where}: start_time must be a finite number")
    if get("fork_from") is not None and (problem := fork_point_problem(get("fork_from"))) is not None:
        raise IngestError(f"{where}: {problem}")


def _check_update(data: dict[str, Any], where: str) -> None:
    """Config and summary records: ``{"update": {…}, "remove": [key…]}``."""
    if data.get("update") is not None and not isinstance(data.get("update"), dict):
        raise IngestError(f"{where}: update must be a map")
    remove = data.get("remove")
    if remove is not None and not (isinstance(remove, list) and all(isinstance(k, str) for k in remove)):
        raise IngestError(f"{where}: remove must be a list of keys")


def _check_output(data: dict[str, Any], where: str) -> None:
    lines = data.get("lines")
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


def _check_files(data: dict[str, Any], where: str) -> None:
    files = data.get("files")
    if files is not None and not isinstance(files, list):
        raise IngestError(f"{where}: files must be a list")
    for entry in files or ():
        if not isinstance(entry, dict):
            raise IngestError(f"{where}: each file must be a map")
        # A name the server does not take refuses that file only (gather leaves it out), never the batch.


def _check_lost(seq: int, data: dict[str, Any], where: str) -> None:
    last = data.get("last")
    if not (type(last) is int and seq <= last <= MAX_INT64):
        raise IngestError(f"{where}: a declared gap needs its last lost seq (≥ {seq}) as last")
    if not isinstance(data.get("reason", ""), str):
        raise IngestError(f"{where}: reason must be a string")


def _check_exit(data: dict[str, Any], where: str) -> None:
    get = data.get
    code = get("exit_code")
    if code is not None and not (type(code) is int and -MAX_INT32 - 1 <= code <= MAX_INT32):
        raise IngestError(f"{where}: exit_code must be a 32-bit integer")
    if get("runtime") is not None and not _is_number(get("runtime")):
        raise IngestError(f"{where}: runtime must be a finite number")
    if get("state") is not None and not isinstance(get("state"), str):
        raise IngestError(f"{where}: state must be a string")
    if get("summary") is not None and not isinstance(get("summary"), dict):
        raise IngestError(f"{where}: summary must be a map")
    if get("traceback") is not None and not isinstance(get("traceback"), str):
        raise IngestError(f"{where}: traceback must be a string")


_DATA_CHECKS: dict[str, Callable[[dict[str, Any], str], None]] = {
    RecordType.STATS: _check_stats,
    RecordType.RUN: _check_run,
    RecordType.CONFIG: _check_update,
    RecordType.SUMMARY: _check_update,
    RecordType.OUTPUT: _check_output,
    RecordType.FILES: _check_files,
    RecordType.EXIT: _check_exit,
}


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
