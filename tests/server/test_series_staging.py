"""Appends to a series (``store/ingest/_series.py``), on SQLite and PostgreSQL.

A live run's small batch is stored as a row of its own after the open chunk, which stays as it is;
once the numbers after the open chunk are taken, the next batch joins them into main chunks again,
and closed main chunks into whole ones. A property test compares any sequence of batches with a
plain model of the points, and checks the rows' layout; series stored before staging (numbered 0,
1, 2, …) take appends too.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.test_rewind_store import Log, stored
from wakelog.server.config import ServerConfig
from wakelog.server.notify.dispatcher import CRASH_LOOKBACK, Dispatcher
from wakelog.server.query.history import RunRef, read_history
from wakelog.store import series as codec
from wakelog.store.database import Database
from wakelog.store.ingest import _tail_cache
from wakelog.store.ingest._series import UNION_EARLIER, UNION_OPEN_ROWS, UNION_TAILS, Tail, _tails
from wakelog.store.schema import STREAM_HISTORY, STREAM_SYSTEM, run_notices, runs, series_chunks


def layout(db: Database, key: str) -> list[tuple[int, int, bytes]]:
    """A key's rows: (number, points, data), in number order."""
    c = series_chunks.c
    with db.read() as conn:
        rows = conn.execute(
            sa.select(c.chunk, c.count, c.data)
            .where(c.stream == STREAM_HISTORY, c.key == key)
            .order_by(c.chunk)
        ).all()
    return [(row.chunk, row.count, bytes(row.data)) for row in rows]


def expected(steps: range) -> list[tuple[int, float]]:
    return [(step, 100.0 - step) for step in steps]


def test_small_batches_are_staged_after_the_open_chunk_and_then_joined_into_it(db: Database) -> None:
    log = Log(db)
    log.send(("run", {}))
    log.rows(range(100))
    [(number, points, opened)] = layout(db, "loss")
    assert (number, points) == (0, 100) and points < codec.MERGE_BELOW, "an open main chunk"
    for batch in range(codec.STRIDE - 1):
        log.rows(range(100 + 3 * batch, 103 + 3 * batch))
    rows = layout(db, "loss")
    assert [(n, p) for n, p, _ in rows] == [(0, 100)] + [(n, 3) for n in range(1, codec.STRIDE)]
    assert rows[0][2] == opened, "the open chunk was not rewritten by the batches after it"
    assert stored(db, "loss") == expected(range(100 + 3 * (codec.STRIDE - 1)))

    last = 100 + 3 * (codec.STRIDE - 1)
    log.rows(range(last, last + 3))  # no number left after the open chunk: join
    assert [(n, p) for n, p, _ in layout(db, "loss")] == [(0, last + 3)]
    assert stored(db, "loss") == expected(range(last + 3))


def test_a_batch_of_many_keys_is_staged_and_joined_like_one_of_few(db: Database) -> None:
    """Past ``UNION_TAILS`` and ``UNION_OPEN_ROWS`` series, PostgreSQL looks tails and open rows up
    over arrays: 30 keys through two joins, every point once, the same rows as for one key."""
    log = Log(db)
    log.send(("run", {}))
    keys = [f"layer{i}/grad" for i in range(max(UNION_TAILS, UNION_OPEN_ROWS) + 9)]
    steps = range(3 * (2 * codec.STRIDE + 1))  # a first batch, then two rounds of staged rows and a join
    for first in steps[::3]:
        log.send(
            *[
                ("history", {"_step": s, **{k: s + i / 8 for i, k in enumerate(keys)}})
                for s in range(first, first + 3)
            ]
        )
    for i, key in enumerate(keys):
        assert stored(db, key) == [(s, s + i / 8) for s in steps], key
        assert [n for n, _, _ in layout(db, key)] == [n for n, _, _ in layout(db, keys[0])]
    assert [(n, p) for n, p, _ in layout(db, keys[0])] == [(0, len(steps))], "joined into the open chunk"


def rows_of(db: Database, stream: int, run_id: str | None = None) -> list[tuple[str, int, int, int]]:
    """Every row of a stream (of every run, or of ``run_id``'s): (key, number, points, stored
    bytes), in order."""
    c = series_chunks.c
    query = sa.select(c.key, c.chunk, c.count, c.data, c.sketch).where(c.stream == stream)
    if run_id is not None:
        query = query.join(runs, runs.c.id == c.run_pk).where(runs.c.run_id == run_id)
    with db.read() as conn:
        rows = conn.execute(query.order_by(c.key, c.chunk)).all()
    return [(r.key, r.chunk, r.count, len(r.data) + len(r.sketch)) for r in rows]


def test_a_run_that_ends_joins_its_staged_rows_into_main_chunks(db: Database) -> None:
    """The exit's batch joins every series that ends in staged rows, system metrics too: the same
    points in fewer rows and bytes. A run resumed later appends after them as before."""
    log = Log(db)
    log.send(("run", {}))
    for first in range(0, 400, 10):  # 40 live batches: a join, then staged rows again
        log.rows(range(first, first + 10))
        log.send(("stats", {"_runtime": first / 10, "cpu": 50.0 + first}))
    staged = rows_of(db, STREAM_HISTORY)
    assert {(k, n % codec.STRIDE != 0) for k, n, _, _ in staged} == {
        ("loss", True),
        ("acc", True),
        ("loss", False),
        ("acc", False),
    }
    assert len(rows_of(db, STREAM_SYSTEM)) > 1
    log.send(("exit", {"exit_code": 0}))
    sealed = rows_of(db, STREAM_HISTORY)
    assert [(k, n, p) for k, n, p, _ in sealed] == [("acc", 0, 400), ("loss", 0, 400)]
    assert sum(b for *_, b in sealed) < sum(b for *_, b in staged)
    assert [(n, p) for _, n, p, _ in rows_of(db, STREAM_SYSTEM)] == [(0, 40)]
    assert stored(db, "loss") == expected(range(400))  # and each row's sketch is its points'
    log.rows(range(400, 403))
    assert [(n, p) for _, n, p, _ in rows_of(db, STREAM_HISTORY)][-2:] == [(0, 400), (1, 3)]
    assert stored(db, "loss") == expected(range(403))


def test_a_run_that_ends_without_staged_rows_is_left_as_it_is(db: Database) -> None:
    log = Log(db)
    log.send(("run", {}))
    log.rows(range(50))
    before = layout(db, "loss")
    log.send(("exit", {"exit_code": 1}))
    assert layout(db, "loss") == before


def numbers(db: Database, run_id: str) -> list[tuple[str, int, int]]:
    """A run's history rows: (key, number, points), in order."""
    return [(key, number, points) for key, number, points, _ in rows_of(db, STREAM_HISTORY, run_id)]


def run_pk(db: Database, run_id: str) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(runs.c.id).where(runs.c.run_id == run_id)).scalar_one())


def crash_notices(db: Database, run_id: str) -> int:
    with db.read() as conn:
        query = sa.select(sa.func.count()).where(
            run_notices.c.run_pk == run_pk(db, run_id), run_notices.c.kind == "crashed"
        )
        return int(conn.execute(query).scalar_one())


def live_runs(db: Database, *run_ids: str) -> list[Log]:
    """Runs of 20 live batches each: a main chunk and staged rows after it."""
    logs = [Log(db, run_id) for run_id in run_ids]
    for log in logs:
        log.send(("run", {}))
        for first in range(0, 200, 10):
            log.rows(range(first, first + 10))
    return logs


def test_a_run_noticed_as_crashed_has_its_staged_rows_joined(db: Database, tmp_path: Path) -> None:
    """A run that stops without an exit (killed, its machine lost) is joined when the dispatcher
    notices its heartbeat went stale; a run still sending is not; a crashed run that comes back
    appends after the joined chunk."""
    crashed, alive = live_runs(db, "crashed", "alive")
    staged = numbers(db, "alive")
    assert len(staged) > 2, "a main chunk and staged rows per key"
    later = time.time() + 11 * 60  # past the 10 minutes' crash timeout
    with db.write() as conn:
        conn.execute(runs.update().where(runs.c.run_id == "alive").values(heartbeat_at=later))
    Dispatcher(db, ServerConfig(data_dir=tmp_path), clock=lambda: later).notice_crashes()
    assert crash_notices(db, "crashed") == 1 and crash_notices(db, "alive") == 0
    assert numbers(db, "crashed") == [("acc", 0, 200), ("loss", 0, 200)]
    assert numbers(db, "alive") == staged
    for log in (crashed, alive):
        assert stored(db, "loss", run_pk(db, log.run_id)) == expected(range(200))
    crashed.rows(range(200, 203))
    assert numbers(db, "crashed")[-2:] == [("loss", 0, 200), ("loss", 1, 3)]
    assert stored(db, "loss", run_pk(db, "crashed")) == expected(range(203))


def test_runs_quiet_for_longer_than_the_lookback_are_joined_as_they_cross_it(
    db: Database, tmp_path: Path
) -> None:
    """Runs that went quiet more than a day before the dispatcher looked (the server was down) are
    joined and noted, once: a process's first round walks them all, a later round the runs that
    crossed the lookback since it last looked. Their points stay as they were."""
    old, late = live_runs(db, "old", "late")
    staged = numbers(db, "late")
    first = time.time() + CRASH_LOOKBACK + 3600  # "old" has been quiet a day and an hour
    with db.write() as conn:  # "late" is alive then, and goes quiet an hour after
        conn.execute(runs.update().where(runs.c.run_id == "late").values(heartbeat_at=first + 3600))
    clock = [first]
    dispatcher = Dispatcher(db, ServerConfig(data_dir=tmp_path), clock=lambda: clock[0])
    dispatcher.notice_crashes()
    assert numbers(db, "old") == [("acc", 0, 200), ("loss", 0, 200)] and crash_notices(db, "old") == 1
    assert numbers(db, "late") == staged and crash_notices(db, "late") == 0
    clock[0] = first + 3600 + CRASH_LOOKBACK + 3600  # the dispatcher saw "late" neither quiet nor told
    dispatcher.notice_crashes()
    assert numbers(db, "late") == [("acc", 0, 200), ("loss", 0, 200)] and crash_notices(db, "late") == 1
    dispatcher.notice_crashes()
    assert crash_notices(db, "old") == 1 and crash_notices(db, "late") == 1, "noted once"
    for log in (old, late):
        assert stored(db, "loss", run_pk(db, log.run_id)) == expected(range(200))


def test_after_another_process_wrote_a_run_its_tails_are_looked_up_again(
    db: Database, monkeypatch: Any
) -> None:
    """The tails a process noted for a run (``_tail_cache``) hold only while the run's row is as its
    last batch left it: after a batch of another process (here, one that notes its tails apart), the
    next batch looks them up and appends after that batch's rows."""
    log = Log(db)
    log.send(("run", {}))
    log.rows(range(100))
    log.rows(range(100, 103))  # noted: each key's tail is its row 1
    with monkeypatch.context() as patched:
        patched.setattr(_tail_cache, "tail_cache", _tail_cache.TailCache())
        log.rows(range(103, 106))  # another process's batch: row 2
    log.rows(range(106, 109))  # row 3 (row 2 again, from the noted tail, would be refused)
    assert [(n, p) for n, p, _ in layout(db, "loss")] == [(0, 100), (1, 3), (2, 3), (3, 3)]
    assert stored(db, "loss") == expected(range(109))
    noted, found = noted_tails(db)
    assert noted == found and len(found) == 2, "this process's batch noted the tails it left"


def noted_tails(db: Database, run_id: str = "r") -> tuple[dict[Any, Tail], dict[Any, Tail]]:
    """The tails this process noted for the run after its last batch, and those stored."""
    with db.read() as conn:
        run = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).one()
        series = conn.execute(
            sa.select(series_chunks.c.stream, series_chunks.c.key)
            .where(series_chunks.c.run_pk == run.id)
            .distinct()
        ).all()
        return _tail_cache.tail_cache.known(run), _tails(conn, run.id, [tuple(s) for s in series], {})


class BatchBeforeWrite:
    """The store, where a batch of ``log``'s run is applied as the dispatcher opens its write: one
    that arrives between the dispatcher's read of the quiet runs and its transaction."""

    def __init__(self, db: Database, log: Log) -> None:
        self.db, self.log = db, log

    def read(self) -> Any:
        return self.db.read()

    def write(self) -> Any:
        self.log.rows(range(200, 201))
        return self.db.write()


def test_a_run_that_sends_again_before_the_crash_is_written_is_neither_told_nor_joined(
    db: Database, tmp_path: Path
) -> None:
    [log] = live_runs(db, "back")
    staged = numbers(db, "back")
    later = time.time() + 11 * 60
    racing = BatchBeforeWrite(db, log)
    Dispatcher(racing, ServerConfig(data_dir=tmp_path), clock=lambda: later).notice_crashes()  # type: ignore[arg-type]
    assert crash_notices(db, "back") == 0
    after = staged[-1][1] + 1  # the racing batch's row, staged after the others
    assert numbers(db, "back") == sorted([*staged, ("acc", after, 1), ("loss", after, 1)])


def test_after_a_full_chunk_new_points_start_the_next_main_chunk(db: Database) -> None:
    log = Log(db)
    log.send(("run", {}))
    log.rows(range(codec.MERGE_BELOW + 10))
    log.rows(range(codec.MERGE_BELOW + 10, codec.MERGE_BELOW + 12))
    log.rows(range(codec.MERGE_BELOW + 12, codec.MERGE_BELOW + 15))
    numbers = [(n, p) for n, p, _ in layout(db, "loss")]
    assert numbers == [(0, codec.MERGE_BELOW + 10), (codec.STRIDE, 2), (codec.STRIDE + 1, 3)]
    assert stored(db, "loss") == expected(range(codec.MERGE_BELOW + 15))


def test_closed_main_chunks_are_joined_into_whole_ones_by_the_next_batch(db: Database) -> None:
    """Main chunks are closed at ``MERGE_BELOW`` points; once the closed ones since the last whole
    chunk hold ``CHUNK_POINTS`` points, the next batch joins them and itself into whole chunks."""
    log = Log(db)
    log.send(("run", {}))
    size = codec.MERGE_BELOW + 10
    for first in range(0, 4 * size, size):
        log.rows(range(first, first + size))
    assert [(n, p) for n, p, _ in layout(db, "loss")] == [(i * codec.STRIDE, size) for i in range(4)]
    end = 4 * size + 3
    log.rows(range(4 * size, end))
    whole = [(0, codec.CHUNK_POINTS), (codec.STRIDE, end - codec.CHUNK_POINTS)]
    assert [(n, p) for n, p, _ in layout(db, "loss")] == whole
    assert stored(db, "loss") == expected(range(end))


def test_closed_chunks_of_many_keys_are_joined_like_those_of_few(db: Database) -> None:
    """Past ``UNION_EARLIER`` series, PostgreSQL looks up the rows before the closed tails over
    arrays: each key's chunks joined as one key's are, every point once."""
    log = Log(db)
    log.send(("run", {}))
    keys = [f"layer{i}/grad" for i in range(UNION_EARLIER + 4)]
    size = codec.MERGE_BELOW + 10
    end = 4 * size + 3
    for first in range(0, end, size):
        steps = range(first, min(first + size, end))
        log.send(*[("history", {"_step": s, **{k: s + i / 8 for i, k in enumerate(keys)}}) for s in steps])
    for i, key in enumerate(keys):
        assert stored(db, key) == [(s, s + i / 8) for s in range(end)], key
        whole = [(0, codec.CHUNK_POINTS), (codec.STRIDE, end - codec.CHUNK_POINTS)]
        assert [(n, p) for n, p, _ in layout(db, key)] == whole, key


def test_a_series_logged_live_is_stored_in_whole_chunks(db: Database) -> None:
    """Ten steps a batch, as a live run sends: the series' rows are whole chunks but for the last
    few (a chart reads a row each: a quarter of the rows of chunks closed at ``MERGE_BELOW``)."""
    log = Log(db)
    log.send(("run", {}))
    end = 2 * codec.CHUNK_POINTS + codec.MERGE_BELOW
    for first in range(0, end, 10):
        log.rows(range(first, min(first + 10, end)))
    rows = [(n, p) for n, p, _ in layout(db, "loss")]
    assert [p for _, p in rows[:2]] == [codec.CHUNK_POINTS] * 2, rows
    assert len(rows) < 2 + codec.CHUNK_POINTS // codec.MERGE_BELOW + codec.STRIDE, rows
    assert stored(db, "loss") == expected(range(end))


def test_a_big_batch_after_staged_rows_joins_them_at_once(db: Database) -> None:
    log = Log(db)
    log.send(("run", {}))
    log.rows(range(10))
    log.rows(range(10, 12))
    end = 12 + codec.CHUNK_POINTS + 5
    log.rows(range(12, end))
    assert [(n, p) for n, p, _ in layout(db, "loss")] == [(0, codec.CHUNK_POINTS), (codec.STRIDE, 17)]
    assert stored(db, "loss") == expected(range(end))


def store_rows(db: Database, key: str, rows: list[tuple[int, range]]) -> None:
    """Rows of ``key`` (number, steps) written straight into the run's series, as an older wakelog
    left them (``expected`` values)."""
    with db.write() as conn:
        run_pk = conn.execute(sa.select(runs.c.id)).scalar_one()
        for number, steps in rows:
            step_array = np.array(steps, dtype=np.int64)
            chunk = codec.Chunk(step_array, 100.0 - step_array.astype(np.float64))
            conn.execute(
                series_chunks.insert(),
                {
                    "run_pk": run_pk,
                    "stream": STREAM_HISTORY,
                    "key": key,
                    "chunk": number,
                    "first_step": chunk.first_step,
                    "last_step": chunk.last_step,
                    "count": len(chunk),
                    "data": codec.encode(chunk),
                    "sketch": codec.sketch(chunk),
                },
            )


def test_a_series_numbered_before_staging_takes_appends(db: Database) -> None:
    """Rows numbered 0, 1, 2, … (the tail's number not a main chunk's) are joined like staged rows."""
    log = Log(db)
    log.send(("run", {}))
    # each bigger than MERGE_BELOW but the last
    store_rows(db, "loss", [(n, range(700 * n, 700 * n + (700 if n < 4 else 300))) for n in range(5)])
    end = 4 * 700 + 300
    for start in range(end, end + 3 * codec.STRIDE, 3):
        log.rows(range(start, start + 3))
    assert stored(db, "loss") == expected(range(end + 3 * codec.STRIDE))
    numbers = [n for n, _, _ in layout(db, "loss")]
    assert numbers == sorted(set(numbers)) and numbers[-1] < 3 * codec.STRIDE


def test_a_chart_reads_a_series_in_chunk_order_whatever_order_its_rows_lie_in(db: Database) -> None:
    """A row rewritten after later ones (a join, ``wakelog db compact``) lies after them in the
    table, and PostgreSQL gives a chart's rows in the table's order (it no longer sorts them:
    ``history._in_chunk_order``). Stored last to first here, they are charted in step order, as
    raw points and as binned sketches alike."""
    Log(db).send(("run", {}))
    size = codec.MERGE_BELOW + 100
    numbered = [(i * codec.STRIDE, range(i * size, (i + 1) * size)) for i in range(5)]
    store_rows(db, "loss", numbered[::-1])
    steps = np.arange(5 * size)
    with db.read() as conn:
        if not db.is_sqlite:  # the table in its order, as for a chart of most of a store's runs
            conn.exec_driver_sql("SET enable_indexscan = off")
        run = RunRef(conn.execute(sa.select(runs.c.id)).scalar_one(), "r", 0.0)
        (raw,) = read_history(conn, [run], ["loss"], points=5 * size)
        (binned,) = read_history(conn, [run], ["loss"], points=50)
    assert not raw.downsampled and raw.steps.tolist() == steps.tolist()
    assert raw.values.tolist() == (100.0 - steps).tolist()
    assert binned.downsampled and len(binned.steps) == 50 and np.all(np.diff(binned.steps) > 0)
    bins = np.searchsorted(binned.steps, steps)  # each point inside its bin's envelope
    assert np.all(binned.mins[bins] <= 100.0 - steps) and np.all(binned.maxs[bins] >= 100.0 - steps)


def test_db_compact_joins_the_closed_chunks_an_older_wakelog_left_into_whole_ones(db: Database) -> None:
    """Six closed main chunks (a quarter of a whole one each, as live appends left them before),
    then the open chunk and two staged rows: ``wakelog db compact`` joins the closed ones into
    whole chunks and what is left, leaves the rest, and has nothing to do the second time; appends
    go on after it."""
    from click.testing import CliRunner

    from wakelog.cli import main

    log = Log(db)
    log.send(("run", {}))
    size = codec.MERGE_BELOW + 100
    closed = [(i * codec.STRIDE, range(i * size, (i + 1) * size)) for i in range(6)]
    end = 6 * size
    tail = [(6 * codec.STRIDE, range(end, end + 300)), (6 * codec.STRIDE + 1, range(end + 300, end + 303))]
    tail.append((6 * codec.STRIDE + 2, range(end + 303, end + 306)))
    store_rows(db, "loss", closed + tail)
    first = CliRunner().invoke(main, ["db", "compact", "--backend-store", db.url])
    assert first.exit_code == 0, first.output
    assert "compacted 1 run: 4 chunk rows fewer" in first.output
    whole = [(0, codec.CHUNK_POINTS), (codec.STRIDE, 6 * size - codec.CHUNK_POINTS)]
    kept = [(6 * codec.STRIDE, 300), (6 * codec.STRIDE + 1, 3), (6 * codec.STRIDE + 2, 3)]
    assert [(n, p) for n, p, _ in layout(db, "loss")] == [*whole, *kept]
    assert stored(db, "loss") == expected(range(end + 306))
    again = CliRunner().invoke(main, ["db", "compact", "--backend-store", db.url])
    assert again.exit_code == 0 and "0 chunk rows fewer" in again.output, again.output
    log.rows(range(end + 306, end + 320))
    assert stored(db, "loss") == expected(range(end + 320))


def test_compact_goes_over_several_transactions_for_a_wide_run(db: Database) -> None:
    """Past ``most`` points, a run is compacted a range of a series at a time: two keys, each
    with two runs of closed chunks (the second after a whole chunk), take four transactions."""
    from wakelog.store.ingest import compact

    Log(db).send(("run", {}))
    size, whole = codec.MERGE_BELOW + 100, codec.CHUNK_POINTS
    numbers = iter(range(0, 100 * codec.STRIDE, codec.STRIDE))
    rows, step = [], 0
    for points in [size] * 4 + [whole] + [size] * 4 + [300]:
        rows.append((next(numbers), range(step, step + points)))
        step += points
    for key in ("loss", "acc"):
        store_rows(db, key, rows)
    done = []
    while not done or done[-1].left:
        with db.write() as conn:
            done.append(compact(conn, run_pk(db, "r"), most=1))
    assert [d.fewer for d in done] == [2, 2, 2, 2] and not done[-1].left
    for key in ("loss", "acc"):
        points = [p for _, p, _ in layout(db, key)]
        assert points == [whole, 4 * size - whole, whole, whole, 4 * size - whole, 300], key
        assert stored(db, key) == expected(range(step)), key


def test_db_compact_on_a_missing_data_dir_says_so(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from wakelog.cli import main

    result = CliRunner().invoke(main, ["db", "compact", "--data-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "no server data in" in result.output, result.output


_EXAMPLES = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.tuples(st.integers(1, 20), st.integers(1, 3)), min_size=1, max_size=30))
def test_any_batches_store_what_was_logged_in_the_layout_appends_rely_on(
    tmp_path: Path, batches: list[tuple[int, int]]
) -> None:
    """Batches of any size and keys against a dict of (key → step → value), with small chunks and
    strides so that staging, joins and full chunks all happen within a few dozen steps."""
    original = codec.CHUNK_POINTS, codec.MERGE_BELOW, codec.STRIDE
    codec.CHUNK_POINTS, codec.MERGE_BELOW, codec.STRIDE = 8, 4, 4
    db = Database(f"sqlite:///{tmp_path / f'staging-{next(_EXAMPLES)}.db'}")
    db.upgrade()
    try:
        log, model, next_step = Log(db), {"a": {}, "b": {}}, 0
        log.send(("run", {}))
        for count, keys in batches:
            log.model_rows(model, range(next_step, next_step + count), keys)
            next_step += count
            noted, found = noted_tails(db)
            assert noted == found, "the tails noted after a batch are those it left"
        for key, points in model.items():
            assert stored(db, key) == sorted(points.items())
            if points:
                check_layout([(n, p) for n, p, _ in layout(db, key)])
    finally:
        db.dispose()
        codec.CHUNK_POINTS, codec.MERGE_BELOW, codec.STRIDE = original


def check_layout(rows: list[tuple[int, int]]) -> None:
    """Main chunks at multiples of the stride, every one but the last full enough to be closed, and
    no closed ones after a whole one (or the first) that could have been joined into a whole one;
    after the last one, fewer staged rows than the stride, each small."""
    mains = [index for index, (number, _) in enumerate(rows) if number % codec.STRIDE == 0]
    assert mains and mains[0] == 0 and mains == list(range(len(mains))), rows
    assert all(points >= codec.MERGE_BELOW for _, points in rows[: mains[-1]]), rows
    short = 0  # points in the closed main chunks since the last whole one
    for _, points in rows[: mains[-1]]:
        short = 0 if points == codec.CHUNK_POINTS else short + points
        assert short < codec.CHUNK_POINTS, rows
    staged = rows[mains[-1] + 1 :]
    assert all(number - rows[mains[-1]][0] < codec.STRIDE for number, _ in staged), rows
    assert all(points < codec.MERGE_BELOW for _, points in staged), rows
