"""A batch's points into packed series chunks (``store/series.py``), appended after each key's tail.

Points at or before a key's stored last step are dropped (a client bug or a clock jump must not break
the order chunks rely on), as are repeated steps within the batch. Only a small open tail chunk is
re-encoded with the new points; a bigger one stays as it is and new points start a chunk, so a batch
never re-encodes thousands of old points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from wakelog.store import series as codec
from wakelog.store.chunks import chunked
from wakelog.store.schema import series_chunks

Steps = npt.NDArray[np.int64]
Values = npt.NDArray[np.float64]
#: A key's last stored chunk: stream, key, chunk, data, last_step, points (its count).
Tail = sa.Row[Any, Any, Any, Any, Any, Any]


def write_series(
    conn: sa.Connection, run_pk: int, points: Mapping[tuple[int, str], tuple[list[int], list[float]]]
) -> int:
    """Store ``points`` ((stream, key) → (steps, values)); returns how many points were new."""
    if not points:
        return 0
    tails = _tails(conn, run_pk, {key for _, key in points})
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    total = 0
    for (stream, key), (steps, values) in points.items():
        tail = tails.get((stream, key))
        step_array, value_array = _new_points(steps, values, None if tail is None else tail.last_step)
        if not len(step_array):
            continue
        total += len(step_array)
        for row in _chunk_rows(run_pk, stream, key, step_array, value_array, tail):
            (updates if tail is not None and row["chunk"] == tail.chunk else inserts).append(row)
    _update_chunks(conn, run_pk, updates)
    if inserts:
        conn.execute(series_chunks.insert(), inserts)
    return total


def _tails(conn: sa.Connection, run_pk: int, keys: set[str]) -> dict[tuple[int, str], Tail]:
    """The last stored chunk of each (stream, key) among ``keys`` (its row count as ``points``)."""
    c = series_chunks.c
    tails: dict[tuple[int, str], Tail] = {}
    for some in chunked(keys):
        latest = conn.execute(
            sa.select(c.stream, c.key, sa.func.max(c.chunk))
            .where(c.run_pk == run_pk, c.key.in_(some))
            .group_by(c.stream, c.key)
        ).all()
        if not latest:
            continue
        rows = conn.execute(
            sa.select(c.stream, c.key, c.chunk, c.data, c.last_step, c.count.label("points")).where(
                c.run_pk == run_pk, sa.tuple_(c.stream, c.key, c.chunk).in_([tuple(row) for row in latest])
            )
        )
        tails.update(((row.stream, row.key), row) for row in rows)
    return tails


def _new_points(steps: list[int], values: list[float], after: int | None) -> tuple[Steps, Values]:
    """One key's points sorted by step, those at or before ``after`` and repeated steps dropped."""
    step_array = np.asarray(steps, dtype=np.int64)
    value_array = np.asarray(values, dtype=np.float64)
    if len(step_array) > 1 and not np.all(np.diff(step_array) > 0):
        order = np.argsort(step_array, kind="stable")  # blocks of different key sets interleave
        step_array, value_array = step_array[order], value_array[order]
    if after is not None:
        keep = step_array > after
        step_array, value_array = step_array[keep], value_array[keep]
    if len(step_array) > 1 and not np.all(np.diff(step_array) > 0):
        order = np.unique(step_array, return_index=True)[1]
        step_array, value_array = step_array[order], value_array[order]
    return step_array, value_array


def _chunk_rows(
    run_pk: int, stream: int, key: str, steps: Steps, values: Values, tail: Tail | None
) -> list[dict[str, Any]]:
    """The chunk rows for new points: the open tail rewritten with them, or new chunks after it."""
    if tail is not None and tail.points < codec.MERGE_BELOW:
        chunks = codec.merge(codec.decode(tail.data), steps, values)
        first_index = tail.chunk
    else:
        chunks = codec.merge(None, steps, values)
        first_index = tail.chunk + 1 if tail is not None else 0
    return [
        {
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
        for offset, chunk in enumerate(chunks)
    ]


def _update_chunks(conn: sa.Connection, run_pk: int, rows: list[dict[str, Any]]) -> None:
    """Rewrite the open tail chunks: one statement, executed once per row (a batch may touch many keys)."""
    if not rows:
        return
    c = series_chunks.c
    statement = series_chunks.update().where(
        c.run_pk == run_pk,
        c.stream == sa.bindparam("at_stream"),
        c.key == sa.bindparam("at_key"),
        c.chunk == sa.bindparam("at_chunk"),
    )
    new = ("first_step", "last_step", "count", "data", "sketch")
    conn.execute(
        statement,
        [
            {"at_stream": r["stream"], "at_key": r["key"], "at_chunk": r["chunk"], **{n: r[n] for n in new}}
            for r in rows
        ],
    )
