"""Rewinding a run in the store (``store/rewind.truncate_history``), on SQLite and PostgreSQL.

The history after the step is gone (the boundary chunk rewritten, later chunks and objects
deleted), per-key statistics and the summary say what is left, and the ingest that follows
appends after the new tail once (its sequence numbers go on; its steps start after the rewind).
A property test compares truncate-then-append with a plain model of the run's points.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wakelog.store import series as codec
from wakelog.store.database import Database
from wakelog.store.ingest import apply_batch, validate
from wakelog.store.rewind import RewindRefused, truncate_history
from wakelog.store.schema import STREAM_HISTORY, history_objects, runs, series_chunks, summaries


class Log:
    """One run's records, numbered as the SDK's uploader numbers them."""

    def __init__(self, db: Database, run_id: str = "r") -> None:
        self.db, self.run_id, self.seq = db, run_id, 0

    def send(self, *records: tuple[str, dict[str, Any]]) -> int:
        batch = [[self.seq + i, kind, float(self.seq + i), data] for i, (kind, data) in enumerate(records)]
        self.seq += len(batch)
        return apply_batch(self.db, "team", "proj", self.run_id, validate(batch)).ack

    def model_rows(self, model: dict[str, dict[int, float]], steps: range, keys: int) -> None:
        """Rows at ``steps`` logging ``a`` (``keys & 1``) and ``b`` (``keys & 2``), noted in ``model``."""
        rows: list[tuple[str, dict[str, Any]]] = []
        for step in steps:
            row: dict[str, Any] = {"_step": step}
            if keys & 1:
                row["a"] = model["a"][step] = step * 2.0
            if keys & 2:
                row["b"] = model["b"][step] = -float(step)
            rows.append(("history", row))
        self.send(*rows)

    def rows(self, steps: range, **extra: Any) -> int:
        rows = [("history", {"_step": s, "loss": 100.0 - s, "acc": s / 100, **extra}) for s in steps]
        return self.send(*rows)

    def rewind(self, step: int) -> Any:
        with self.db.write() as conn:
            run = conn.execute(sa.select(runs).where(runs.c.run_id == self.run_id)).one()
            return truncate_history(conn, run, step)


def stored(db: Database, key: str, run_pk: int | None = None) -> list[tuple[int, float]]:
    """A key's stored history points (of the one run, or of run ``run_pk``), chunk by chunk; each
    chunk says its own first and last step and count, and the steps rise from chunk to chunk."""
    c = series_chunks.c
    query = (
        sa.select(c.chunk, c.first_step, c.last_step, c.count, c.data, c.sketch)
        .where(c.stream == STREAM_HISTORY, c.key == key)
        .order_by(c.chunk)
    )
    if run_pk is not None:
        query = query.where(c.run_pk == run_pk)
    with db.read() as conn:
        chunks = conn.execute(query).all()
    points: list[tuple[int, float]] = []
    for chunk in chunks:
        decoded = codec.decode(chunk.data)
        assert not points or points[-1][0] < decoded.first_step
        assert (chunk.first_step, chunk.last_step, chunk.count) == (
            decoded.first_step,
            decoded.last_step,
            len(decoded),
        )
        assert chunk.sketch == codec.sketch(decoded), "the sketch is the chunk's"
        points.extend(zip(decoded.steps.tolist(), decoded.values.tolist(), strict=True))
    return points


def run_row(db: Database) -> Any:
    with db.read() as conn:
        return conn.execute(sa.select(runs)).one()


def statistics(db: Database, key: str) -> Any:
    with db.read() as conn:
        return conn.execute(sa.select(summaries).where(summaries.c.key == key)).first()


@pytest.mark.parametrize(
    "step",
    [13, 15, 16, 0],
    ids=["mid-chunk", "last-of-a-chunk", "first-of-a-chunk", "step-0"],
)
def test_a_rewind_keeps_the_rows_up_to_its_step_then_ingest_appends_after_it(
    db: Database, small_chunks: None, step: int
) -> None:
    log = Log(db)
    log.send(("run", {}))
    log.rows(range(30))
    ack = log.send(("history", {"_step": 30, "loss": 1.0, "image": {"_type": "image-file", "path": "a.png"}}))
    done = log.rewind(step)
    assert (done.last_step_before, done.rows) == (30, step + 1)
    assert (done.keys, done.cut) == ({"loss", "acc", "image"}, 2 * (29 - step) + 2)
    assert stored(db, "loss") == [(s, 100.0 - s) for s in range(step + 1)]
    run = run_row(db)
    assert (run.last_step, run.last_seq) == (step, ack), "the ack does not move"
    assert run.summary["loss"] == 100 - step and "image" not in run.summary
    assert [r["step"] for r in run.run_metadata["rewinds"]] == [step]
    stats = statistics(db, "loss")
    assert (stats.count, stats.first, stats.last, stats.min, stats.max, stats.last_step) == (
        step + 1,
        100.0,
        100.0 - step,
        100.0 - step,
        100.0,
        step,
    )
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(history_objects)).scalar_one() == 0

    log.rows(range(step + 1, step + 12))  # the next records: sequence numbers go on, steps restart
    assert stored(db, "loss") == [(s, 100.0 - s) for s in range(step + 12)]
    assert run_row(db).last_step == step + 11
    assert statistics(db, "loss").count == step + 12
    log.seq -= 11
    log.rows(range(step + 1, step + 12))  # resent: below the ack, nothing twice
    assert stored(db, "loss") == [(s, 100.0 - s) for s in range(step + 12)]


def test_a_key_whose_every_point_is_cut_loses_its_statistics_and_summary(db: Database) -> None:
    log = Log(db)
    log.rows(range(5))
    log.send(("history", {"_step": 5, "late": 1.0, "note": "text"}), ("summary", {"update": {"best": 0.9}}))
    log.rewind(4)
    summary = run_row(db).summary
    assert "late" not in summary and "note" not in summary and summary["best"] == 0.9
    assert statistics(db, "late") is None and stored(db, "late") == []


def test_a_key_goes_back_to_its_last_value_up_to_the_step_whatever_its_type(db: Database) -> None:
    log = Log(db)
    log.send(("history", {"_step": 0, "mixed": "start"}), ("history", {"_step": 1, "mixed": 1.5}))
    log.send(("history", {"_step": 2, "mixed": "two"}), ("history", {"_step": 3, "mixed": 3.0}))
    log.rewind(2)
    assert run_row(db).summary["mixed"] == "two"
    log.rewind(1)
    assert run_row(db).summary["mixed"] == 1.5
    assert [r["step"] for r in run_row(db).run_metadata["rewinds"]] == [2, 1]


@pytest.mark.parametrize("step", [-1, 10, 2**63, 1.5])
def test_a_step_the_history_does_not_have_is_refused_and_nothing_changes(db: Database, step: Any) -> None:
    log = Log(db)
    log.rows(range(10))
    before = (stored(db, "loss"), run_row(db).summary)
    with pytest.raises(RewindRefused, match="step"):
        log.rewind(step)
    assert (stored(db, "loss"), run_row(db).summary) == before
    assert run_row(db).last_step == 9


def test_new_metadata_keeps_the_rewinds_noted(db: Database) -> None:
    log = Log(db)
    log.rows(range(3))
    log.rewind(1)
    log.send(("metadata", {"host": "h"}))
    metadata = run_row(db).run_metadata
    assert metadata["host"] == "h" and [r["step"] for r in metadata["rewinds"]] == [1]


#: An operation: ("log", number of rows, which of the keys each logs) or ("rewind", how far back).
Operation = tuple[str, int, int]
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("log"), st.integers(1, 20), st.integers(1, 3)),
        st.tuples(st.just("rewind"), st.integers(0, 40), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)


_EXAMPLES = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_truncate_then_append_matches_a_model(tmp_path: Path, operations: list[Operation]) -> None:
    """Against a dict of (key → step → value): whatever the order of logs and rewinds, the store
    holds exactly the model's points, its statistics and summary say the model's last values."""
    original = codec.CHUNK_POINTS, codec.MERGE_BELOW, codec.STRIDE
    codec.CHUNK_POINTS, codec.MERGE_BELOW, codec.STRIDE = 8, 4, 4  # staged rows and joins too
    db = Database(f"sqlite:///{tmp_path / f'model-{next(_EXAMPLES)}.db'}")
    db.upgrade()
    try:
        log, model, last = Log(db), {"a": {}, "b": {}}, -1
        log.send(("run", {}))
        for kind, count, keys in operations:
            if kind == "log":
                log.model_rows(model, range(last + 1, last + 1 + count), keys)
                last += count
            elif last >= 0:
                step = max(0, last - count)
                log.rewind(step)
                model = {k: {s: v for s, v in points.items() if s <= step} for k, points in model.items()}
                last = step
        for key, points in model.items():
            assert stored(db, key) == sorted(points.items())
            stats, summary = statistics(db, key), run_row(db).summary
            if points:
                final = max(points)
                assert (stats.count, stats.last_step, stats.last) == (len(points), final, points[final])
                assert summary[key] == points[final]
            else:
                assert stats is None and key not in summary
        assert run_row(db).last_step == last
    finally:
        db.dispose()
        codec.CHUNK_POINTS, codec.MERGE_BELOW, codec.STRIDE = original
