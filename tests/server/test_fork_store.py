"""A fork's copy of its parent's history in the store (``store/fork.inherit``), on SQLite and
PostgreSQL.

The oracle is the run the fork must equal: the parent's own records up to the fork step, ingested
as a new run. Whatever the step (before a key's first point, inside a chunk, at a chunk's edge,
past the parent's end), the fork holds the oracle's points chunk for chunk in value, its
non-numeric values, statistics, summary and last step, and the ingest appends after it as after
the oracle. A parent far past what a row-by-row copy could carry is copied whole.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.server.test_rewind_store import Log, stored
from wakelog.store.database import Database
from wakelog.store.fork import Inheritance
from wakelog.store.ingest import apply_batch, validate
from wakelog.store.schema import history_objects, runs, summaries

PARENT_STEPS = 60
KEYS = ("loss", "acc", "odd", "img", "mixed", "_runtime")
_FORKS = itertools.count()


def parent_row(step: int) -> dict[str, Any]:
    """The parent's row at ``step``: keys logged at different rates, NaN and ±Inf, objects, a key
    that is a number at some steps and a string at others."""
    row: dict[str, Any] = {"_step": step, "loss": 100.0 - step, "_runtime": step * 0.5}
    if step % 3 == 0:
        row["acc"] = step // 3  # an int: the summary keeps it one
    if step % 7 == 2:
        row["odd"] = [math.nan, math.inf, -math.inf, 1e300][step % 4]
    if step % 5 == 1:
        row["img"] = {"_type": "image-file", "path": f"media/{step}.png"}
    if step >= 10:
        row["mixed"] = f"s{step}" if step % 4 == 0 else step / 4
    return row


def history(steps: range) -> list[tuple[str, dict[str, Any]]]:
    return [("history", parent_row(step)) for step in steps]


def first_batch(log: Log, parent: str, step: int, records: list[tuple[str, dict[str, Any]]]) -> None:
    """The fork's first batch, with the inheritance the server looks up for it."""
    with log.db.read() as conn:
        pk = conn.execute(sa.select(runs.c.id).where(runs.c.run_id == parent)).scalar_one()
    batch = [[0, "run", 0.0, {"fork_from": {"run": parent, "step": step}}]]
    batch += [[1 + i, kind, float(1 + i), data] for i, (kind, data) in enumerate(records)]
    log.seq = len(batch)
    inherit = Inheritance(parent, step, parent_pk=pk)
    apply_batch(log.db, "team", "proj", log.run_id, validate(batch), inherit=inherit)


def state(db: Database, run_id: str) -> dict[str, Any]:
    """What a run holds that a fork copies: points by key, objects, statistics, summary, last step."""
    with db.read() as conn:
        run = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).one()
        objects = conn.execute(
            sa.select(history_objects.c.key, history_objects.c.step, history_objects.c.value)
            .where(history_objects.c.run_pk == run.id)
            .order_by(history_objects.c.key, history_objects.c.step)
        ).all()
        stats = conn.execute(
            sa.select(summaries).where(summaries.c.run_pk == run.id).order_by(summaries.c.key)
        ).all()
    totals = {s.key: s.total for s in stats}
    return {
        "points": {key: [(s, repr(v)) for s, v in stored(db, key, run.id)] for key in KEYS},
        "objects": [tuple(o) for o in objects],
        "stats": [(s.key, s.last, s.min, s.max, s.first, s.count, s.last_step, s.project_id) for s in stats],
        "totals": totals,
        "summary": run.summary,
        "last_step": run.last_step,
    }


def same(fork: dict[str, Any], oracle: dict[str, Any]) -> None:
    for part in ("points", "objects", "stats", "summary", "last_step"):
        assert fork[part] == oracle[part], part
    assert fork["totals"] == pytest.approx(oracle["totals"])  # summed in another order


@pytest.fixture
def parent(db: Database, small_chunks: None) -> Log:
    """A parent logged in batches of different sizes: main chunks, staged rows and joins."""
    log = Log(db, "parent")
    log.send(("run", {}))
    at = 0
    for size in (1, 2, 9, 3, 1, 1, 17, 4, 2, 1, 1, 1, 12, 5):
        log.send(*history(range(at, at + size)))
        at += size
    assert at == PARENT_STEPS
    log.send(("summary", {"update": {"best": 0.9}}))  # set, not logged: not the fork's
    return log


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.integers(0, PARENT_STEPS + 5), own=st.integers(0, 6))
@example(step=0, own=1)
@example(step=7, own=0)  # a main chunk's last point (8-point chunks)
@example(step=8, own=3)  # the next one's first
@example(step=PARENT_STEPS + 5, own=2)  # past the parent's end
def test_a_fork_holds_what_ingesting_its_parents_rows_up_to_the_step_would(
    parent: Log, step: int, own: int
) -> None:
    """Fork and oracle, then each's own rows after the step: the same after both."""
    db, n = parent.db, next(_FORKS)
    kept = range(min(step, PARENT_STEPS - 1) + 1)
    after = history(range(step + 1, step + 1 + own))
    oracle = Log(db, f"oracle-{n}")
    oracle.send(("run", {}), *history(kept))
    fork = Log(db, f"fork-{n}")
    first_batch(fork, "parent", step, after[:1])
    oracle.send(*after[:1])
    same(state(db, fork.run_id), state(db, oracle.run_id))
    fork.send(*after[1:])  # the ingest appends after the copy's tails
    oracle.send(*after[1:])
    same(state(db, fork.run_id), state(db, oracle.run_id))


def test_the_parent_is_unchanged_and_the_fork_notes_it(parent: Log) -> None:
    db = parent.db
    before = state(db, "parent")
    fork = Log(db, "child")
    first_batch(fork, "parent", 20, [])
    assert state(db, "parent") == before
    with db.read() as conn:
        child = conn.execute(sa.select(runs).where(runs.c.run_id == "child")).one()
    assert child.run_metadata["forked_from"] == {"run": "parent", "step": 20}
    assert "best" not in child.summary and child.summary["loss"] == 80


def test_a_parent_trashed_before_the_forks_first_batch_is_noted_and_nothing_copied(parent: Log) -> None:
    db = parent.db
    with db.write() as conn:
        conn.execute(runs.update().where(runs.c.run_id == "parent").values(deleted_at=1.0))
    fork = Log(db, "late")
    first_batch(fork, "parent", 20, history(range(21, 23)))
    with db.read() as conn:
        late = conn.execute(sa.select(runs).where(runs.c.run_id == "late")).one()
    note = late.run_metadata["forked_from"]
    assert note["copied"] is False and "parent" in note["reason"] and "trash" in note["reason"]
    assert stored(db, "loss", late.id) == [(21, 79.0), (22, 78.0)]


@pytest.mark.slow
def test_a_parent_of_half_a_million_points_is_copied_whole(db: Database) -> None:
    """250,000 steps × 2 keys: far past the 100,000 rows the copy through history rows could carry
    (it refused them)."""
    steps = 250_000
    log = Log(db, "long")
    log.send(("run", {}))
    for start in range(0, steps, 50_000):
        log.send(*[("history", {"_step": s, "a": s * 0.5, "b": -s}) for s in range(start, start + 50_000)])
    fork_step = 213_457
    fork = Log(db, "fork")
    first_batch(fork, "long", fork_step, [("history", {"_step": fork_step + 1, "a": 1.0})])
    with db.read() as conn:
        pk = conn.execute(sa.select(runs.c.id).where(runs.c.run_id == "fork")).scalar_one()
        run = conn.execute(sa.select(runs).where(runs.c.id == pk)).one()
        stats = {s.key: s for s in conn.execute(sa.select(summaries).where(summaries.c.run_pk == pk))}
    a = stored(db, "a", pk)
    assert len(a) == fork_step + 2 and a[:3] == [(0, 0.0), (1, 0.5), (2, 1.0)]
    assert a[-2:] == [(fork_step, fork_step * 0.5), (fork_step + 1, 1.0)]
    b = np.array([v for _, v in stored(db, "b", pk)])
    assert np.array_equal(b, -np.arange(fork_step + 1, dtype=np.float64))
    assert (stats["b"].count, stats["b"].min, stats["b"].max, stats["b"].last) == (
        fork_step + 1,
        -fork_step,
        0.0,
        -fork_step,
    )
    assert stats["b"].total == -fork_step * (fork_step + 1) / 2
    assert (run.last_step, run.summary["a"], run.summary["b"]) == (fork_step + 1, 1, -fork_step)
