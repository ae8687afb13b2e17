"""The run table's sort index (store/sort_index.py, migration 0020): once a key is indexed for a
project, its index rows are the ``last`` of that key's summaries of the project's runs, whatever
writes them (live batches, a rewind, a removed summary key, a move, a purge) and whenever
(a batch in flight while the key is indexed, on PostgreSQL); no other key has index rows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.server.conftest import fresh_database
from tests.server.test_rewind_store import Log
from wakelog.store import sort_index
from wakelog.store.database import Database
from wakelog.store.ingest import apply_batch, validate
from wakelog.store.ingest._summaries import write_summaries
from wakelog.store.schema import STREAM_HISTORY, project_keys, projects, runs, sorted_summaries, summaries


def project_pk(db: Database, name: str = "proj") -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(projects.c.id).where(projects.c.name == name)).scalar_one())


def run_pk(db: Database, run_id: str) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(runs.c.id).where(runs.c.run_id == run_id)).scalar_one())


def index(db: Database, project_id: int, key: str) -> bool:
    with db.write() as conn:
        return sort_index.add(conn, project_id, key)


def held(db: Database) -> set[tuple[int, str, int, float | None]]:
    """The index rows: run, key, project, last."""
    s = sorted_summaries.c
    with db.read() as conn:
        return {tuple(row) for row in conn.execute(sa.select(s.run_pk, s.key, s.project_id, s.last))}


def due(db: Database) -> set[tuple[int, str, int, float | None]]:
    """What the index must hold: the summaries of each indexed key of the runs of its project."""
    s, k = summaries.c, project_keys.c
    query = (
        sa.select(s.run_pk, s.key, runs.c.project_id, s.last)
        .join(runs, runs.c.id == s.run_pk)
        .join(project_keys, sa.and_(k.project_id == runs.c.project_id, k.key == s.key))
        .where(k.kind == sort_index.KIND)
    )
    with db.read() as conn:
        return {tuple(row) for row in conn.execute(query)}


def test_an_indexed_key_follows_every_write_of_its_summaries(db: Database) -> None:
    a, b, c = Log(db, "a"), Log(db, "b"), Log(db, "c")
    for log, top in ((a, 3), (b, 5), (c, 2)):
        log.rows(range(top))
    proj = project_pk(db)
    assert held(db) == set()  # no key is indexed until a run table sorts by it
    assert index(db, proj, "acc") and not index(db, proj, "acc")
    assert (
        held(db)
        == due(db)
        == {
            (run_pk(db, "a"), "acc", proj, 0.02),
            (run_pk(db, "b"), "acc", proj, 0.04),
            (run_pk(db, "c"), "acc", proj, 0.01),
        }
    )
    steps = (
        ("a live batch", lambda: a.rows(range(3, 9))),
        ("a new run's first batch", lambda: Log(db, "d").rows(range(4))),
        ("a rewind", lambda: b.rewind(2)),
        ("a removed summary key", lambda: c.send(("summary", {"remove": ["acc"]}))),
        ("NaN only", lambda: Log(db, "e").send(("history", {"_step": 0, "acc": float("nan")}))),
    )
    for what, step in steps:
        step()
        assert held(db) == due(db), what
    index(db, proj, "loss")
    elsewhere = [[0, "history", 1.0, {"_step": 0, "acc": 7.0}]]
    apply_batch(db, "team", "other", "x", validate(elsewhere))
    other = project_pk(db, "other")
    for what, step in (
        ("moved out, to a project that sorts by nothing", lambda: _move(db, "a", other)),
        ("moved in", lambda: _move(db, "x", proj)),
        ("indexed where it went", lambda: index(db, other, "acc")),
        ("purged", lambda: _purge(db, "d")),
    ):
        step()
        assert held(db) == due(db), what
    assert {key for _, key, _, _ in held(db)} == {"acc", "loss"}
    assert (run_pk(db, "x"), "acc", proj, 7.0) in held(db)
    assert (run_pk(db, "a"), "acc", other, 0.08) in held(db)


def _move(db: Database, run_id: str, project_id: int) -> None:
    with db.write() as conn:
        conn.execute(runs.update().where(runs.c.run_id == run_id).values(project_id=project_id))


def _purge(db: Database, run_id: str) -> None:
    with db.write() as conn:
        conn.execute(runs.delete().where(runs.c.run_id == run_id))


# -- PostgreSQL: a batch in flight while a key is indexed -----------------------------------------


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    database = Database(fresh_database(postgres_url))
    database.upgrade()
    yield database
    database.dispose()


def waiting_on_the_lock(db: Database) -> bool:
    with db.read() as conn:
        query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        return bool(conn.exec_driver_sql(query).scalar_one())


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, failed


def poll(condition: Callable[[], bool], what: str, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, what
        time.sleep(0.01)


def summaries_of(conn: sa.Connection, pk: int, proj: int, acc: float) -> None:
    """What an ingest batch writes of a run's summaries: here a first value of ``acc``."""
    write_summaries(conn, pk, proj, {(STREAM_HISTORY, "acc"): ([9], [acc])}, set())


def test_a_batch_written_before_a_key_is_indexed_and_committed_after_is_copied(pg: Database) -> None:
    """The batch's trigger holds the project's shared lock until it commits; indexing waits for it,
    and then copies the batch's row."""
    Log(pg, "a").rows(range(2))
    Log(pg, "b").send(("history", {"_step": 0, "loss": 1.0}))  # no acc yet: the batch adds it
    proj, b = project_pk(pg), run_pk(pg, "b")
    written, release = threading.Event(), threading.Event()

    def batch() -> None:
        with pg.write() as conn:
            summaries_of(conn, b, proj, 0.5)
            written.set()
            release.wait(30)

    batch_thread, batch_failed = in_thread(batch)
    assert written.wait(30)
    indexing, indexing_failed = in_thread(lambda: index(pg, proj, "acc"))
    try:
        poll(lambda: waiting_on_the_lock(pg), "indexing waits for the batch in flight")
    finally:
        release.set()
        batch_thread.join(30)
        indexing.join(30)
    assert not batch_failed and not indexing_failed, batch_failed + indexing_failed
    assert (b, "acc", proj, 0.5) in held(pg)
    assert held(pg) == due(pg)


def test_a_batch_written_while_a_key_is_being_indexed_waits_and_indexes_its_row(pg: Database) -> None:
    """Indexing holds the project's exclusive lock until it commits; the batch's trigger waits for
    it, and then sees the key indexed."""
    Log(pg, "a").rows(range(2))
    Log(pg, "b").send(("history", {"_step": 0, "loss": 1.0}))
    proj, b = project_pk(pg), run_pk(pg, "b")
    indexed, release = threading.Event(), threading.Event()

    def indexing() -> None:
        with pg.write() as conn:
            sort_index.add(conn, proj, "acc")
            indexed.set()
            release.wait(30)

    def batch() -> None:
        with pg.write() as conn:
            summaries_of(conn, b, proj, 0.5)

    index_thread, index_failed = in_thread(indexing)
    assert indexed.wait(30)
    batch_thread, batch_failed = in_thread(batch)
    try:
        poll(lambda: waiting_on_the_lock(pg), "the batch waits for the key's indexing")
    finally:
        release.set()
        index_thread.join(30)
        batch_thread.join(30)
    assert not index_failed and not batch_failed, index_failed + batch_failed
    assert (b, "acc", proj, 0.5) in held(pg)
    assert held(pg) == due(pg)
