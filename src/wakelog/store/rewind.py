"""Rewinding a run in place: its history after a step is cut away, and it logs on from there.

W&B's ``resume_from="<run>?_step=N"`` (the stock client's ``rewindRun``, wakelog's SDK through
``POST …/rewind``). ``truncate_history`` does the store's part in the caller's write transaction,
with the run's row locked, so a rewind is applied whole or not at all and no ingest batch of the
run interleaves with it:

* history series (stream 0): chunks that start after N are deleted, the chunk that holds N is
  rewritten with the points up to N (and its sketch recomputed). Chunk numbers stay contiguous,
  so ingest's tail lookup (the last chunk by primary key) finds the new tail; a rewritten tail
  smaller than ``MERGE_BELOW`` is open again and the next points join it;
* non-numeric history values (media stubs, strings) after N are deleted;
* the per-key statistics (``summaries``) of the keys that lost points are recomputed from what is
  left; a key with nothing left loses its row;
* the run's summary: each key the cut rows set goes back to its last value up to N, or is dropped
  when nothing up to N set it (W&B recomputes the summary from the history); keys the history
  never set (``run.summary[k] = v``) stay;
* ``runs.last_step`` becomes N. ``last_seq`` (the ingest's ack) does not move: the records that
  follow are new records, never taken for resends of the cut ones, and a resend of an old record
  is still below the ack and skipped. The stock client's file stream keeps history rows by
  ``_step`` past ``last_step``, so its rows from N+1 on are taken;
* the rewind is noted in the run's metadata (``rewinds``: step, the last step before, when).

System metrics, console lines and files are left alone (W&B keeps them too: its system metrics
and console go on in the new segment; logged files stay with the run).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from wakelog.errors import Error
from wakelog.store import series as codec
from wakelog.store.chunks import chunked
from wakelog.store.ingest import MAX_INT64, json_safe
from wakelog.store.ingest._columns import db_float
from wakelog.store.schema import STREAM_HISTORY, history_objects, runs, series_chunks, summaries

#: Where ``runs.run_metadata`` lists the run's rewinds (kept when the client sends new metadata).
REWINDS = "rewinds"


class RewindRefused(Error, ValueError):
    """The rewind cannot be done as asked (its step is not in the run's history); nothing changed."""


@dataclass
class Truncated:
    """What a rewind left: the run's last step before, the rows kept, the keys that lost points
    (or objects) and how many it cut (what live viewers are told to load again)."""

    last_step_before: int
    rows: int
    keys: set[str] = field(default_factory=set)
    cut: int = 0


def truncate_history(conn: sa.Connection, run: Any, step: int) -> Truncated:
    """Cut the history of ``run`` (its row, locked by the caller) after ``step``; see the module.

    ``rows`` is how many history rows are kept: the most points any key keeps (each stock-client
    and SDK row carries ``_timestamp``, so that is the row count), what the client continues its
    history file at."""
    if type(step) is not int or not 0 <= step <= MAX_INT64:
        raise RewindRefused(f"the step to rewind to must be a whole number from 0 to 2**63-1, not {step!r}")
    if step > run.last_step:
        raise RewindRefused(
            f"run {run.run_id} has no step {step} to rewind to: its last step is {run.last_step}"
            if run.last_step >= 0
            else f"run {run.run_id} has no history to rewind"
        )
    keys, cut = _cut_series(conn, run.id, step)
    objects = conn.execute(
        sa.select(history_objects.c.key, sa.func.count())
        .where(history_objects.c.run_pk == run.id, history_objects.c.step > step)
        .group_by(history_objects.c.key)
    ).all()
    object_keys = {key for key, _ in objects}
    cut += sum(int(count) for _, count in objects)
    conn.execute(
        history_objects.delete().where(history_objects.c.run_pk == run.id, history_objects.c.step > step)
    )
    kept = _kept_points(conn, run.id, keys | object_keys)
    _restate_summaries(conn, run.id, {k: v for k, v in kept.items() if not k.startswith("_")})
    summary = _summary_at(conn, run, kept, keys | object_keys)
    metadata = dict(run.run_metadata or {})
    entry = {"step": step, "last_step": run.last_step, "time": time.time()}
    metadata[REWINDS] = [*(metadata.get(REWINDS) or []), entry]
    conn.execute(
        runs.update()
        .where(runs.c.id == run.id)
        .values(last_step=step, summary=json_safe(summary), run_metadata=metadata, updated_at=time.time())
    )
    counts = conn.execute(
        sa.select(sa.func.sum(series_chunks.c.count))
        .where(series_chunks.c.run_pk == run.id, series_chunks.c.stream == STREAM_HISTORY)
        .group_by(series_chunks.c.key)
    ).scalars()
    rows = max((int(c) for c in counts), default=0)
    return Truncated(last_step_before=run.last_step, rows=rows, keys=keys | object_keys, cut=cut)


def _cut_series(conn: sa.Connection, run_pk: int, step: int) -> tuple[set[str], int]:
    """Delete the history chunks after ``step`` and rewrite the ones it falls in; returns the keys
    that lost points and how many points they lost."""
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


def _kept_points(conn: sa.Connection, run_pk: int, keys: set[str]) -> dict[str, codec.Chunk]:
    """The points ``keys`` keep, whole (in chunk order); keys with none left are absent."""
    c = series_chunks.c
    parts: defaultdict[str, list[codec.Chunk]] = defaultdict(list)
    for key in sorted(keys):
        rows = conn.execute(
            sa.select(c.data)
            .where(c.run_pk == run_pk, c.stream == STREAM_HISTORY, c.key == key)
            .order_by(c.chunk)
        ).scalars()
        parts[key].extend(codec.decode(data) for data in rows)
    return {
        key: codec.Chunk(
            np.concatenate([p.steps for p in chunks]), np.concatenate([p.values for p in chunks])
        )
        for key, chunks in parts.items()
        if chunks
    }


def _restate_summaries(conn: sa.Connection, run_pk: int, kept: dict[str, codec.Chunk]) -> None:
    """Each key's statistics (``summaries``) from the points it keeps, as ingest computes them."""
    for key, points in kept.items():
        values = points.values
        finite = values[~np.isnan(values)]
        conn.execute(
            summaries.update()
            .where(summaries.c.run_pk == run_pk, summaries.c.key == key)
            .values(
                last=db_float(values[-1]),
                min=float(finite.min()) if len(finite) else None,
                max=float(finite.max()) if len(finite) else None,
                first=db_float(values[0]),
                total=float(np.nansum(finite[np.isfinite(finite)])),
                count=len(values),
                last_step=int(points.steps[-1]),
            )
        )


def _summary_at(conn: sa.Connection, run: Any, kept: dict[str, codec.Chunk], cut: set[str]) -> dict[str, Any]:
    """The run's summary once the rows after the step are gone (see the module); the statistics
    of the ``cut`` keys with no points left are deleted."""
    summary = {key: value for key, value in (run.summary or {}).items() if key not in cut}
    latest = {key: (int(points.steps[-1]), _number(points.values[-1])) for key, points in kept.items()}
    o = history_objects.c
    for some in chunked(cut):
        gone = [key for key in some if key not in kept]
        if gone:
            conn.execute(summaries.delete().where(summaries.c.run_pk == run.id, summaries.c.key.in_(gone)))
        last = (
            sa.select(o.key, sa.func.max(o.step).label("step"))
            .where(o.run_pk == run.id, o.key.in_(some))
            .group_by(o.key)
            .subquery()
        )
        found = conn.execute(
            sa.select(o.key, o.step, o.value).join(
                last, sa.and_(o.run_pk == run.id, o.key == last.c.key, o.step == last.c.step)
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
    number = float(value)
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number
