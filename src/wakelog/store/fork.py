"""A fork's start: the parent's history up to the fork step, copied into the new run once.

W&B's ``fork_from="<run>?_step=N"``: a new run that starts with its parent's history rows up to
step N and logs its own from N+1. Both clients come here. The stock wandb client names the point
in its config (``_wandb.branch_point``; ``server/wandb_compat/branches.py``), wakelog's SDK in its
run log's first record (the run record at sequence 0: ``fork_from: {"run", "step"}``). The server
looks the parent up (``server/manage/forks.py``), and the ingest copies its history (``inherit``)
in the transaction of the new run's first batch, before that batch's own records
(``store/ingest``): the copy is made exactly when the run's first records are, so a resent or
retried first batch (below the ack by then) copies nothing again. The copy is of stored rows, in
SQL: a parent of millions of steps is copied whole, in memory a chunk's worth.

Every fork is noted in the new run's metadata, ``forked_from: {"run", "step"}`` (kept when the
client sends new metadata), with ``"copied": false`` and the reason when nothing could be copied
(a parent the server does not have when an offline fork is synced: the fork's own data is never
refused for it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from wakelog.runlog import RecordType
from wakelog.store.ingest._columns import json_safe
from wakelog.store.restate import cut_after, restate, summary_after
from wakelog.store.schema import STREAM_HISTORY, history_objects, runs, series_chunks

#: Where ``runs.run_metadata`` names the run a fork came from.
FORKED_FROM = "forked_from"
_MAX_STEP = 2**63 - 1


@dataclass(frozen=True)
class Inheritance:
    """What a new fork starts with: its parent (by id, and by primary key when the server has it)
    and the step; when nothing can be copied, why."""

    parent: str
    step: int
    parent_pk: int | None = None
    not_copied: str | None = None

    def note(self) -> dict[str, Any]:
        """The run's ``forked_from`` metadata."""
        note: dict[str, Any] = {"run": self.parent, "step": self.step}
        if self.not_copied is not None:
            note.update(copied=False, reason=self.not_copied)
        return note


def fork_point_problem(value: Any) -> str | None:
    """Why a run record's ``fork_from`` is not ``{"run": id, "step": N}``; None when it is."""
    if not isinstance(value, dict) or not isinstance(value.get("run"), str) or not value["run"]:
        return 'fork_from must be {"run": <run id>, "step": <step>}'
    if type(value.get("step")) is not int or not 0 <= value["step"] <= _MAX_STEP:
        return "fork_from's step must be a whole number from 0 to 2**63-1"
    return None


def fork_point(records: list[tuple[int, str, float, Any]]) -> tuple[str, int] | None:
    """(parent, step) a batch's first record names, when the batch starts a fork (its run record
    at sequence 0 has ``fork_from``); None otherwise. The batch is checked already."""
    if not records:
        return None
    seq, kind, _, data = records[0]
    point = data.get("fork_from") if seq == 0 and kind == RecordType.RUN else None
    return (point["run"], point["step"]) if point is not None else None


def inherit(conn: sa.Connection, run: Any, inheritance: Inheritance) -> tuple[Inheritance, int]:
    """Copy the parent's history up to the step into ``run`` (a new fork's row, nothing of its own
    stored yet), in the caller's transaction; returns the inheritance as it turned out (the parent
    may have gone since it was looked up) and how many points were copied.

    The parent's stored rows are copied in SQL (``INSERT … SELECT``), whatever its length: its
    series chunks that start at or before the step (the one holding the step is then cut at it, as
    a rewind cuts) and its non-numeric values up to the step. Each key's statistics, the run's
    summary and its last step are then worked out from what was copied (``store/restate.py``), a
    chunk at a time."""
    if inheritance.parent_pk is None:
        return inheritance, 0
    parent = sa.select(runs.c.id).where(runs.c.id == inheritance.parent_pk, runs.c.deleted_at.is_(None))
    if conn.execute(parent).first() is None:
        gone = f"run {inheritance.parent} went to the trash or was deleted before the fork's first batch"
        return replace(inheritance, not_copied=gone), 0
    step, child = inheritance.step, sa.literal(run.id, sa.Integer)
    c, o = series_chunks.c, history_objects.c
    _copy(
        conn,
        series_chunks,
        child,
        (c.run_pk == inheritance.parent_pk, c.stream == STREAM_HISTORY, c.first_step <= step),
    )
    _copy(conn, history_objects, child, (o.run_pk == inheritance.parent_pk, o.step <= step))
    cut_after(conn, run.id, step)
    folded = restate(conn, run.id, run.project_id)
    objects = dict(
        conn.execute(sa.select(o.key, sa.func.max(o.step)).where(o.run_pk == run.id).group_by(o.key)).all()
    )
    summary = summary_after(conn, run.id, {}, set(folded) | set(objects), folded)
    last_step = max(
        [stats.last_step for stats in folded.values()] + [int(at) for at in objects.values()], default=-1
    )
    conn.execute(
        runs.update().where(runs.c.id == run.id).values(summary=json_safe(summary), last_step=last_step)
    )
    return inheritance, sum(stats.count for stats in folded.values())


def _copy(conn: sa.Connection, table: sa.Table, child: Any, where: tuple[Any, ...]) -> None:
    """``table``'s rows that match ``where`` (the parent's), inserted again as the ``child``'s."""
    others = [column for column in table.columns if column.name != "run_pk"]
    copies = sa.select(child, *others).where(*where)
    conn.execute(table.insert().from_select(["run_pk", *(column.name for column in others)], copies))
