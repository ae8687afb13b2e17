"""Per-key summary statistics (last, min, max, first, total, count) updated with a batch's points.

NaN is left out of min, max and total and stored as NULL; ±Inf count for min and max, not for total.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sqlalchemy as sa

from wakelog.store.chunks import chunked
from wakelog.store.ingest._columns import db_floats
from wakelog.store.schema import STREAM_HISTORY, summaries
from wakelog.store.upsert import upsert_merging


def write_summaries(
    conn: sa.Connection, run_pk: int, project_id: int, statistics: list[dict[str, Any]], removed: set[str]
) -> None:
    """Fold a batch's ``statistics`` (``batch_statistics``) into the run's summaries; delete the
    ``removed`` keys' first."""
    c = summaries.c
    for some in chunked(removed):
        conn.execute(summaries.delete().where(c.run_pk == run_pk, c.key.in_(some)))
    if statistics:
        rows = [{"run_pk": run_pk, "project_id": project_id, **row} for row in statistics]
        upsert_merging(conn, summaries, rows, ["run_pk", "key"], _merged)


def batch_statistics(
    points: Mapping[tuple[int, str], tuple[list[int], list[float]]], keys: list[str]
) -> list[dict[str, Any]]:
    """The statistics of the history ``points`` of ``keys`` (``key_registry.summary_keys``: those
    with a summary), a row per key. Needs no database: the server works them out before the write
    transaction."""
    rows = []
    by_length: dict[int, list[str]] = {}  # keys logged as often share one numpy pass (per key costs more)
    for key in keys:
        by_length.setdefault(len(points[(STREAM_HISTORY, key)][0]), []).append(key)
    for group in by_length.values():
        table = np.array([points[(STREAM_HISTORY, key)][1] for key in group], dtype=np.float64)
        lows = np.fmin.reduce(table, axis=1)  # NaN is left out (NaN only if all are: NULL)
        highs = np.fmax.reduce(table, axis=1)
        totals = np.where(np.isfinite(table), table, 0.0).sum(axis=1).tolist()
        picked = db_floats(np.stack([table[:, 0], table[:, -1], lows, highs]))  # one pass for all four
        columns = zip(group, *picked, totals, strict=True)
        for key, first, last, low, high, total in columns:
            rows.append(
                {
                    "key": key,
                    "last": last,
                    "min": low,
                    "max": high,
                    "first": first,
                    "total": total,
                    "count": table.shape[1],
                    "last_step": int(points[(STREAM_HISTORY, key)][0][-1]),
                }
            )
    return rows


def _merged(new: Any) -> dict[str, Any]:
    """A key's stored statistics folded with a batch's (``new``), in the upsert itself: no read first."""
    c = summaries.c
    return {
        "last": new.last,
        "min": _pick(c.min, new.min, new.min < c.min),
        "max": _pick(c.max, new.max, new.max > c.max),
        "first": c.first,
        "total": sa.func.coalesce(c.total, 0.0) + new.total,
        "count": c.count + new.count,
        "last_step": new.last_step,
    }


def _pick(old: Any, new: Any, new_wins: Any) -> Any:
    """``new`` where ``new_wins`` or there is no ``old``; NULL (no finite value) never wins."""
    return sa.case((old.is_(None), new), (new.is_(None), old), (new_wins, new), else_=old)
