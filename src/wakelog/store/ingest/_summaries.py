"""Per-key summary statistics (last, min, max, first, total, count) updated with a batch's points.

NaN is left out of min, max and total and stored as NULL; ±Inf count for min and max, not for total.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import sqlalchemy as sa

from wakelog.store.chunks import chunked
from wakelog.store.ingest._columns import db_float
from wakelog.store.schema import STREAM_HISTORY, summaries
from wakelog.store.upsert import upsert


def write_summaries(
    conn: sa.Connection,
    run_pk: int,
    points: Mapping[tuple[int, str], tuple[list[int], list[float]]],
    removed: set[str],
) -> None:
    """Fold the history ``points`` into their keys' summaries; delete the ``removed`` keys' first."""
    keys = [key for stream, key in points if stream == STREAM_HISTORY and not key.startswith("_")]
    c = summaries.c
    for some in chunked(removed):
        conn.execute(summaries.delete().where(c.run_pk == run_pk, c.key.in_(some)))
    if not keys:
        return
    existing = {
        row.key: row._mapping
        for some in chunked(keys)
        for row in conn.execute(sa.select(summaries).where(c.run_pk == run_pk, c.key.in_(some)))
    }
    rows = []
    for key in keys:
        steps, values = points[(STREAM_HISTORY, key)]
        array = np.asarray(values, dtype=np.float64)
        finite = array[~np.isnan(array)]
        old = existing.get(key)
        new_min = float(finite.min()) if len(finite) else None
        new_max = float(finite.max()) if len(finite) else None
        rows.append(
            {
                "run_pk": run_pk,
                "key": key,
                "last": db_float(array[-1]),
                "min": _combine(min, old["min"] if old else None, new_min),
                "max": _combine(max, old["max"] if old else None, new_max),
                "first": old["first"] if old is not None else db_float(array[0]),
                "total": (old["total"] if old else 0.0) + float(np.nansum(finite[np.isfinite(finite)])),
                "count": (old["count"] if old else 0) + len(array),
                "last_step": int(steps[-1]),
            }
        )
    upsert(
        conn,
        summaries,
        rows,
        ["run_pk", "key"],
        update=["last", "min", "max", "first", "total", "count", "last_step"],
    )


def _combine(pick: Callable[[float, float], float], old: float | None, new: float | None) -> float | None:
    if old is None:
        return db_float(new)
    if new is None:
        return old
    return db_float(pick(old, new))
