"""A batch's points into packed series chunks (``store/series.py``), appended after each key's tail.

Points at or before a key's stored last step are dropped (a client bug or a clock jump must not break
the order chunks rely on), as are repeated steps within the batch. Only a small open tail chunk is
re-encoded with the new points; a bigger one stays as it is and new points start a chunk, so a batch
never re-encodes thousands of old points.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from wakelog.store import series as codec
from wakelog.store.chunks import chunked
from wakelog.store.database import binary_results
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
    tails = _tails(conn, run_pk, list(points))
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


def _tails(conn: sa.Connection, run_pk: int, series: list[tuple[int, str]]) -> dict[tuple[int, str], Tail]:
    """The last stored chunk of each of ``series`` ((stream, key) pairs; its row count as ``points``).
    Each is found by the primary key, from its end: O(log n) however many chunks the run holds."""
    tails: dict[tuple[int, str], Tail] = {}
    for some in chunked(series, TAIL_LOOKUPS):
        params: dict[str, Any] = {"run": run_pk}
        for index, (stream, key) in enumerate(some):
            params[f"s{index}"], params[f"k{index}"] = stream, key
        rows = conn.execute(tails_query(len(some)), params)
        tails.update(((row.stream, row.key), row) for row in rows)
    return tails


#: Series whose tails one statement looks up (three bind parameters each, under every limit).
TAIL_LOOKUPS = 200


@functools.lru_cache(maxsize=64)
def tails_query(count: int) -> sa.TextClause:
    """The last chunk of ``count`` series of run ``:run``, series ``i`` being (``:s<i>``, ``:k<i>``):
    one index lookup from the end of each, in one statement (also what EXPLAIN is asked about)."""
    branch = (
        "SELECT * FROM (SELECT stream, key, chunk, data, last_step, count AS points FROM series_chunks "
        "WHERE run_pk = :run AND stream = :s{0} AND key = :k{0} ORDER BY chunk DESC LIMIT 1) AS t{0}"
    )
    return binary_results(sa.text(" UNION ALL ".join(branch.format(index) for index in range(count))))


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


#: Rewrites one open tail chunk (built once; executed once per row, a batch may touch many keys).
_UPDATE_TAIL = series_chunks.update().where(
    series_chunks.c.run_pk == sa.bindparam("at_run"),
    series_chunks.c.stream == sa.bindparam("at_stream"),
    series_chunks.c.key == sa.bindparam("at_key"),
    series_chunks.c.chunk == sa.bindparam("at_chunk"),
)
_TAIL_COLUMNS = ("first_step", "last_step", "count", "data", "sketch")


def _update_chunks(conn: sa.Connection, run_pk: int, rows: list[dict[str, Any]]) -> None:
    """Rewrite the open tail chunks, in one statement."""
    if rows:
        conn.execute(
            _UPDATE_TAIL,
            [
                {"at_run": run_pk, "at_stream": r["stream"], "at_key": r["key"], "at_chunk": r["chunk"]}
                | {n: r[n] for n in _TAIL_COLUMNS}
                for r in rows
            ],
        )
