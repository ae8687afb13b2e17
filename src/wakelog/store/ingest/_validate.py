"""A request body into checked records: the batch's shape here, each record's data in ``_checks``."""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from wakelog._limits import MAX_BATCH_RECORDS
from wakelog.runlog import RecordType
from wakelog.store.ingest._checks import MAX_DEPTH, check_history, check_record, record_at
from wakelog.store.ingest._errors import BatchTooLarge, IngestError

#: One run-log record: (seq, type, time, data).
Record = tuple[int, str, float, Any]

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
    RecordType.LOST,
}
_TIME_TYPES = (int, float)
#: Distinct metric keys (history and system metrics) one batch may name; see docs/security.md.
MAX_KEYS_PER_BATCH = 100_000

_batch_decoder = msgspec.msgpack.Decoder(list[tuple[int, str, float, Any]])


def decode_batch(body: bytes) -> list[Record]:
    """A MessagePack body into checked records; ``IngestError`` says what and where is wrong."""
    with _collector_paused():
        return _decode_batch(body)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A batch decodes to a few objects per record and no reference cycle; the cyclic collector,
    left on, would run several times per batch over every object of the server (3/4 of the time
    a batch of 20,000 records took)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _decode_batch(body: bytes) -> list[Record]:
    try:
        records = _batch_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise IngestError(f"each record must be [seq, type, time, data]: {exc}") from None
    except msgspec.DecodeError as exc:
        raise IngestError(f"the body is not a MessagePack list of records: {exc}") from None
    except RecursionError:
        raise IngestError(f"the body nests deeper than the {MAX_DEPTH} levels a record may") from None
    if len(records) > MAX_BATCH_RECORDS:
        raise IngestError(f"a batch holds at most {MAX_BATCH_RECORDS} records, not {len(records)}")
    return validate(records)


def validate(records: Any) -> list[Record]:
    """Check the batch's shape; raise ``IngestError`` naming the first problem."""
    if not isinstance(records, list):
        raise IngestError(f"the body must be a list of records, not a {type(records).__name__}")
    checked: list[Record] = []
    key_sets: set[tuple[Any, ...]] = set()
    previous = -1
    for index, record in enumerate(records):
        if not isinstance(record, (list, tuple)) or len(record) != 4:
            raise IngestError(f"record {index}: must be [seq, type, time, data]")
        seq, kind, when, data = record
        # One test for the usual case; _envelope_problem says which part is wrong. (previous ≥ -1,
        # so seq ≤ previous also catches a negative seq.)
        if (
            type(seq) is not int
            or seq <= previous
            or not isinstance(kind, str)
            or type(when) not in _TIME_TYPES
            or not math.isfinite(when)
        ):
            raise IngestError(_envelope_problem(index, seq, kind, previous))
        if kind in _KNOWN_TYPES:
            if not isinstance(data, dict):
                raise IngestError(f"{record_at(index, seq)}: {kind} data must be a map")
            if kind == RecordType.HISTORY:
                check_history(index, seq, data, key_sets)
            else:
                check_record(seq, kind, data, record_at(index, seq))
        previous = last_seq((seq, kind, when, data))
        checked.append((seq, kind, float(when), data))
    _check_key_count(checked, key_sets)
    return checked


def _check_key_count(records: list[Record], key_sets: set[tuple[Any, ...]]) -> None:
    """Refuse a batch naming more than ``MAX_KEYS_PER_BATCH`` keys; a smaller one may pass."""
    keys: set[Any] = set().union(*key_sets)
    for _, kind, _, data in records:
        if kind == RecordType.STATS:
            keys.update(data)
    if len(keys) > MAX_KEYS_PER_BATCH:
        raise BatchTooLarge(
            f"the batch names {len(keys):,} distinct metric keys, more than {MAX_KEYS_PER_BATCH:,}; "
            "send fewer records per batch"
        )


def last_seq(record: Record) -> int:
    """The last sequence number a record stands for: its own, or a declared gap's last."""
    seq, kind, _, data = record
    return int(data["last"]) if kind == RecordType.LOST else seq


def _envelope_problem(index: int, seq: Any, kind: Any, previous: int) -> str:
    """What is wrong with a record's seq, type or time (in that order)."""
    where = f"record {index}"
    if type(seq) is not int or seq < 0:
        return f"{where}: seq must be an integer ≥ 0, got {seq!r}"
    if seq <= previous:
        return f"{where}: seq {seq} does not increase (after {previous})"
    if not isinstance(kind, str):
        return f"{where} (seq {seq}): type must be a string"
    return f"{where} (seq {seq}): time must be a finite number"
