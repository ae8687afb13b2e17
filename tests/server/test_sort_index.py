"""The run table's sort index (store/sort_index.py, migration 0020): once a key is indexed for a
project, its index rows are the ``last`` of that key's summaries of the project's runs, whatever
writes them (live batches, a rewind, a removed summary key, a move, a purge) and whenever
(a batch in flight while the key is indexed, on PostgreSQL); no other key has index rows."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.harness import wait_until
from tests.server.conftest import fresh_database
from tests.server.test_rewind_store import Log
from wakelog.store import sort_index
from wakelog.store.database import Database
from wakelog.store.ingest import apply_batch, validate
from wakelog.store.ingest._summaries import batch_statistics, write_summaries
from wakelog.store.schema import STREAM_HISTORY, project_keys, projects, runs, sorted_summaries, summaries


def project_pk(db: Database, name: str = "proj") -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(projects.c.id).where(projects.c.name == name)).scalar_one())


def run_pk(db: Database, run_id: str) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(runs.c.id).where(runs.c.run_id == run_id)).scalar_one())


def index(db: Database, project_id: int, key: str) -> bool:
    return sort_index.add(db, project_id, key)


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
        .where(k.kind.in_([sort_index.KIND, sort_index.FILLING]))
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


def kinds(db: Database, project_id: int, key: str) -> set[str]:
    c = project_keys.c
    with db.read() as conn:
        query = sa.select(c.kind).where(c.project_id == project_id, c.key == key)
        return set(conn.execute(query).scalars()) - {"summary"}


def test_a_key_is_copied_in_slices_and_kept_by_the_triggers_meanwhile(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry first ("filling"): from then on the triggers keep the key's rows. A slice of runs
    copied; then batches of a copied run, of one not copied yet and of a new run; then the copy
    from the start, as a copy cut short is taken up again: it keeps what the triggers wrote."""
    monkeypatch.setattr(sort_index, "SLICE", 2)
    logs = [Log(db, f"r{i}") for i in range(5)]
    for i, log in enumerate(logs):
        log.rows(range(i + 1))
    proj = project_pk(db)
    with db.write() as conn:
        assert sort_index.register(conn, proj, "acc")
    with db.write() as conn:
        assert sort_index._copy_slice(conn, proj, "acc", None) is not None
    logs[0].rows(range(1, 5))
    logs[4].rows(range(5, 7))
    Log(db, "late").rows(range(2))
    assert kinds(db, proj, "acc") == {sort_index.FILLING}
    missing = {run for run, *_ in due(db) - held(db)}
    assert missing == {run_pk(db, "r2"), run_pk(db, "r3")}, "the rest is copied or kept by the triggers"
    sort_index.fill(db, proj, "acc")
    assert kinds(db, proj, "acc") == {sort_index.KIND}
    assert held(db) == due(db)
    assert (run_pk(db, "r0"), "acc", proj, 0.04) in held(db)
    assert not sort_index.add(db, proj, "acc")


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


def summaries_of(conn: sa.Connection, pk: int, proj: int, acc: float) -> None:
    """What an ingest batch writes of a run's summaries: here a first value of ``acc``."""
    write_summaries(conn, pk, proj, batch_statistics({(STREAM_HISTORY, "acc"): ([9], [acc])}, ["acc"]), set())


def batch_of(db: Database, pk: int, proj: int, acc: float) -> None:
    with db.write() as conn:
        summaries_of(conn, pk, proj, acc)


def two_runs(db: Database) -> tuple[int, int]:
    """A project (its id) with a run that logged ``acc`` and one (its id) that has not yet."""
    Log(db, "a").rows(range(2))
    Log(db, "b").send(("history", {"_step": 0, "loss": 1.0}))
    return project_pk(db), run_pk(db, "b")


def second_waits_for_first(
    db: Database, first: Callable[[sa.Connection], Any], second: Callable[[], Any], what: str
) -> None:
    """``first`` in a write transaction held open, and ``second`` beside it: ``second`` waits on the
    project's advisory lock until ``first`` commits; then both end."""
    done, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.write() as conn:
            first(conn)
            done.set()
            release.wait(30)

    first_thread, first_failed = in_thread(hold)
    assert done.wait(30)
    second_thread, second_failed = in_thread(second)
    try:
        wait_until(lambda: waiting_on_the_lock(db), 20.0, what=what)
    finally:
        release.set()
        first_thread.join(30)
        second_thread.join(30)
    assert not first_failed and not second_failed, first_failed + second_failed


def test_a_batch_written_before_a_key_is_indexed_and_committed_after_is_copied(pg: Database) -> None:
    """The batch's trigger holds the project's shared lock until it commits; indexing waits for it,
    and then copies the batch's row."""
    proj, b = two_runs(pg)
    second_waits_for_first(
        pg,
        lambda conn: summaries_of(conn, b, proj, 0.5),
        lambda: index(pg, proj, "acc"),
        "indexing waits for the batch in flight",
    )
    assert (b, "acc", proj, 0.5) in held(pg)
    assert held(pg) == due(pg)


def test_a_batch_written_while_a_key_is_being_indexed_waits_and_indexes_its_row(pg: Database) -> None:
    """Making the key's entry holds the project's exclusive lock until it commits; the batch's
    trigger waits for it, then sees the entry and writes its row, which the copy keeps."""
    proj, b = two_runs(pg)
    second_waits_for_first(
        pg,
        lambda conn: sort_index.register(conn, proj, "acc"),
        lambda: batch_of(pg, b, proj, 0.5),
        "the batch waits for the key's entry",
    )
    sort_index.fill(pg, proj, "acc")
    assert (b, "acc", proj, 0.5) in held(pg)
    assert held(pg) == due(pg)


def test_a_summary_deleted_while_its_slice_is_copied_is_waited_for(pg: Database) -> None:
    """A batch removing a run's ``acc`` takes the project's shared lock before the delete; the
    slice's copy waits for it, then copies what is left (a row deleted under the copy would fail
    its foreign key)."""
    proj, _ = two_runs(pg)
    a = run_pk(pg, "a")
    with pg.write() as conn:
        assert sort_index.register(conn, proj, "acc")
    removal = summaries.delete().where(summaries.c.run_pk == a, summaries.c.key == "acc")
    second_waits_for_first(
        pg, lambda conn: conn.execute(removal), lambda: sort_index.fill(pg, proj, "acc"), "the copy waits"
    )
    assert a not in {run for run, *_ in held(pg)}
    assert held(pg) == due(pg)


# -- PostgreSQL: what the triggers read ------------------------------------------------------------


@pytest.mark.parametrize("analyzed", [False, True], ids=["fresh", "analyzed"])
def test_the_triggers_read_a_few_pages_however_many_keys_the_projects_have(
    pg: Database, analyzed: bool
) -> None:
    """A live batch's summaries find which of their keys are indexed in a page or two (migration 0022's
    index of the indexed keys), not by reading the project's keys, 10,000 config keys here: before
    it, PostgreSQL walked them for each changed row while ``project_keys`` had no statistics, and
    read the whole table (every project's keys) once it had."""
    log, logged = Log(pg, "a"), [f"layer_{i}.grad_norm" for i in range(10)]
    log.send(("config", {"update": {f"optimizer.setting_{i}": i for i in range(10_000)}}))
    log.rows(range(2), **dict.fromkeys(logged, 1.0))
    proj, a = project_pk(pg), run_pk(pg, "a")
    index(pg, proj, "acc")
    if analyzed:
        with pg.write() as conn:
            conn.exec_driver_sql("ANALYZE project_keys")
    with pg.write() as conn:
        plans = explained(conn)
        points = {(STREAM_HISTORY, key): ([2], [0.9]) for key in ["acc", *logged]}  # a live batch's
        write_summaries(conn, a, proj, batch_statistics(points, ["acc", *logged]), set())
    kept = [plan for plan in plans if "INSERT INTO sorted_summaries" in plan]
    assert kept, plans
    assert sum(map(pages_of_project_keys, kept)) <= 2 * len(points), kept  # a page or two a key
    assert (a, "acc", proj, 0.9) in held(pg)


def explained(conn: sa.Connection) -> list[str]:
    """The plans of the statements ``conn`` runs in its transaction from here on, the triggers'
    included, with what each read (auto_explain, told to answer the client)."""
    plans: list[str] = []
    conn.connection.driver_connection.add_notice_handler(lambda notice: plans.append(notice.message_primary))
    conn.exec_driver_sql("LOAD 'auto_explain'")
    for setting in (
        "min_duration = 0",
        "nested_statements = on",
        "analyze = on",
        "buffers = on",
        "level = notice",
    ):
        conn.exec_driver_sql(f"SET LOCAL auto_explain.log_{setting}")
    return plans


def pages_of_project_keys(plan: str) -> int:
    """The pages a plan's scans of ``project_keys`` read, found in memory or not (their nodes'
    ``Buffers``; none for a node that never ran)."""
    read = 0
    for node in plan.split("->")[1:]:
        found = re.search(r"Buffers: shared ([^\n]*)", node)
        if " on project_keys " in node.partition("\n")[0] and found:
            read += sum(int(n) for n in re.findall(r"\b(?:hit|read)=(\d+)", found.group(1)))
    return read
