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
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from wakelog.errors import Error
from wakelog.store.ingest import MAX_INT64, json_safe
from wakelog.store.restate import cut_after, restate, summary_after
from wakelog.store.schema import STREAM_HISTORY, history_objects, runs, series_chunks

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
    keys, cut = cut_after(conn, run.id, step)
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
    folded = restate(conn, run.id, run.project_id, keys | object_keys)
    summary = summary_after(conn, run.id, run.summary or {}, keys | object_keys, folded)
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
