"""What a run's stored history implies, worked out again from it: each key's statistics
(``summaries``) and its last value in the run's summary. A rewind needs it once it has cut the
history at a step (``store/rewind.py``), a fork once it has copied its parent's up to one
(``store/fork.py``). The series are read a chunk at a time, so memory stays a chunk's (4,096
points) however long the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from wakelog.store import series as codec
from wakelog.store.chunks import chunked
from wakelog.store.database import binary_results
from wakelog.store.ingest._columns import db_float
from wakelog.store.schema import STREAM_HISTORY, history_objects, series_chunks, summaries
from wakelog.store.upsert import upsert

#: Chunk rows fetched at a time while the statistics are worked out (a server-side cursor on
#: PostgreSQL): a few MB, whatever the run holds.
_FETCH = 64


def cut_after(conn: sa.Connection, run_pk: int, step: int) -> tuple[set[str], int]:
    """Delete the run's history chunks after ``step`` and rewrite the ones it falls in (their points
    up to it, their sketches again); returns the keys that lost points and how many they lost."""
    c = series_chunks.c
    history = sa.and_(c.run_pk == run_pk, c.stream == STREAM_HISTORY)
    boundary = conn.execute(
        sa.select(c.key, c.chunk, c.data).where(history, c.first_step <= step, c.last_step > step)
    ).all()
    later = conn.execute(
        sa.select(c.key, sa.func.sum(c.count)).where(history, c.first_step > step).group_by(c.key)
    ).all()
    keys = {key for key, _ in later} | {key for key, _, _ in boundary}
    removed = sum(int(count) for _, count in later)
    conn.execute(series_chunks.delete().where(history, c.first_step > step))
    for key, chunk, data in boundary:
        points = codec.decode(data)
        keep = points.steps <= step
        cut = codec.Chunk(points.steps[keep], points.values[keep])
        removed += len(points) - len(cut)
        conn.execute(
            series_chunks.update()
            .where(history, c.key == key, c.chunk == chunk)
            .values(
                last_step=cut.last_step,
                count=len(cut),
                data=codec.encode(cut),
                sketch=codec.sketch(cut),
            )
        )
    return keys, removed


@dataclass
class Folded:
    """A key's statistics over its stored points, folded in chunk by chunk (as ingest's: NaN is
    left out of min, max and total, ±Inf out of total)."""

    first: float
    last: float
    low: float
    high: float
    total: float
    count: int
    last_step: int

    def add(self, points: codec.Chunk) -> None:
        values = points.values
        self.last, self.last_step = float(values[-1]), int(points.steps[-1])
        self.low = float(np.fmin(self.low, np.fmin.reduce(values)))
        self.high = float(np.fmax(self.high, np.fmax.reduce(values)))
        self.total += float(values[np.isfinite(values)].sum())
        self.count += len(values)


#: The columns of a key's ``summaries`` row that ``restate`` writes again.
_RESTATED = ["project_id", "last", "min", "max", "first", "total", "count", "last_step"]


def restate(
    conn: sa.Connection, run_pk: int, project_id: int, keys: set[str] | None = None
) -> dict[str, Folded]:
    """Each of ``keys``' statistics (None: every history key's) worked out again from its stored
    points and written to ``summaries``; a key with no points left loses its row. Returns the
    statistics by key, the ``_``-prefixed keys' too (they have no row)."""
    c = series_chunks.c
    query = binary_results(
        sa.select(c.key, c.data)
        .where(c.run_pk == run_pk, c.stream == STREAM_HISTORY)
        .order_by(c.key, c.chunk)
        .execution_options(yield_per=_FETCH)
    )
    folded: dict[str, Folded] = {}
    for key, data in conn.execute(query):
        if keys is not None and key not in keys:
            continue
        points = codec.decode(bytes(data))
        stats = folded.get(key)
        if stats is None:
            first = float(points.values[0])
            stats = folded[key] = Folded(first, first, math.nan, math.nan, 0.0, 0, 0)
        stats.add(points)
    rows = [
        {
            "run_pk": run_pk,
            "project_id": project_id,
            "key": key,
            "last": db_float(stats.last),
            "min": db_float(stats.low),
            "max": db_float(stats.high),
            "first": db_float(stats.first),
            "total": stats.total,
            "count": stats.count,
            "last_step": stats.last_step,
        }
        for key, stats in folded.items()
        if not key.startswith("_")
    ]
    upsert(conn, summaries, rows, ["run_pk", "key"], update=_RESTATED)
    gone = [key for key in keys or () if key not in folded]
    for some in chunked(gone):
        conn.execute(summaries.delete().where(summaries.c.run_pk == run_pk, summaries.c.key.in_(some)))
    return folded


def summary_after(
    conn: sa.Connection, run_pk: int, summary: dict[str, Any], keys: set[str], folded: dict[str, Folded]
) -> dict[str, Any]:
    """``summary`` with each of ``keys`` set again to its last value in the stored history (a number
    from ``folded``, or a non-numeric value's, whichever is at the later step), or dropped when the
    history has none; the other keys (``run.summary[k] = v``) stay. The ``_``-prefixed are left out."""
    summary = {key: value for key, value in summary.items() if key not in keys}
    latest = {key: (stats.last_step, _number(stats.last)) for key, stats in folded.items() if key in keys}
    o = history_objects.c
    for some in chunked(keys):
        last = (
            sa.select(o.key, sa.func.max(o.step).label("step"))
            .where(o.run_pk == run_pk, o.key.in_(some))
            .group_by(o.key)
            .subquery()
        )
        found = conn.execute(
            sa.select(o.key, o.step, o.value).join(
                last, sa.and_(o.run_pk == run_pk, o.key == last.c.key, o.step == last.c.step)
            )
        )
        for key, at, value in found:
            if key not in latest or at > latest[key][0]:
                latest[key] = (at, value)
    summary.update({key: value for key, (_, value) in latest.items() if not key.startswith("_")})
    return summary


def _number(value: float) -> float | int:
    """A stored point as the summary holds a logged one: whole numbers as ints (the counters and
    steps both clients log as ints); NaN and ±Inf as floats, which ``json_safe`` spells."""
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
