"""The database engines as the store sets them up.

SQLite's write transactions take the database's write lock as they begin (BEGIN IMMEDIATE): one that
reads first and writes later never fails to upgrade its lock because another process (a second
``--workers`` process) wrote meanwhile; it waits for that writer up front instead. No engine has
connection events: any listener makes SQLAlchemy dispatch every statement's events, which cost a live
run's batch (half a dozen statements) more than what the listeners did. (PostgreSQL's binary results,
an execution context hook instead, are tested in test_query_plans.py.)

PostgreSQL's pool pings a connection only when it sat idle a while: one the server dropped meanwhile
(a restart) is replaced before a request gets it, and one in steady use costs no round trip.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from tests.harness import wait_until
from tests.server.conftest import fresh_database, start_backend_server
from wakelog.store import checkpoints
from wakelog.store import database as database_module
from wakelog.store.database import Database


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    path = tmp_path / "store.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    yield database, path
    database.dispose()


def _other_writer_gets_the_lock(path: Path) -> bool:
    """Whether another process's connection could begin writing now (it does not wait)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


def test_a_write_transaction_holds_the_write_lock_from_its_start(store: tuple[Database, Path]) -> None:
    db, path = store
    with db.write():
        assert not _other_writer_gets_the_lock(path), "nothing executed yet, and the lock is held"
    assert _other_writer_gets_the_lock(path), "committed: the lock is free again"
    with pytest.raises(RuntimeError), db.write():
        assert not _other_writer_gets_the_lock(path)
        raise RuntimeError("rolled back")
    assert _other_writer_gets_the_lock(path), "rolled back: the lock is free again"


def test_each_write_transaction_begins_immediate_on_the_same_connection(store: tuple[Database, Path]) -> None:
    """The writer's one pooled connection: its second transaction takes the lock up front too."""
    db, path = store
    for _ in range(2):
        with db.write() as conn:
            conn.exec_driver_sql("SELECT 1")
            assert not _other_writer_gets_the_lock(path)


def test_the_engines_have_no_connection_events(db: Database) -> None:
    """``write`` says BEGIN IMMEDIATE itself; binary results are an execution context hook.

    The flag is read from each engine itself: a listener on the ``Engine`` class (another test's)
    sets the class's flag for the whole process, which says nothing about what the store did."""
    for engine in (db.engine, db._writer):
        assert "_has_events" not in vars(engine)


PAGE = 4096


def _log_pages(path: Path) -> int:
    """How many pages SQLite's write-ahead log file has room for (it is reused from its start
    after a checkpoint, so it grows only while pages pile up unchecked)."""
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size // PAGE if wal.exists() else 0


def _write_pages(db: Database, pages: int) -> None:
    """About ``pages`` pages written, a few to a transaction, as ingest batches write them."""
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS filler (data BLOB)")
    for _ in range(pages // 4):
        with db.write() as conn:
            conn.exec_driver_sql("INSERT INTO filler VALUES (randomblob(4 * 4000))")


def _checkpoint_threads(path: Path) -> int:
    name = f"{checkpoints.THREAD_NAME} {path}"
    return sum(thread.name == name for thread in threading.enumerate())


def test_by_default_the_writer_checkpoints_the_log_itself(store: tuple[Database, Path]) -> None:
    db, path = store
    _write_pages(db, 3000)
    assert _log_pages(path) < 1200, "checkpointed in a commit past 1,000 pages, and reused"


def test_while_a_checkpointer_waits_the_writer_leaves_the_log_alone(store: tuple[Database, Path]) -> None:
    """Past 1,000 pages the writer does not checkpoint (nothing of the log reaches the database
    file); ``dispose`` stops the thread."""
    db, path = store
    db.checkpoint_in_background(every=3600.0)  # started, waiting: its first round is an hour away
    assert _checkpoint_threads(path) == 1
    size = path.stat().st_size
    _write_pages(db, 3000)
    assert _log_pages(path) >= 3000 and path.stat().st_size == size, "all of it still in the log"
    db.dispose()
    assert _checkpoint_threads(path) == 0


def test_the_checkpointer_copies_the_log_into_the_database_file(store: tuple[Database, Path]) -> None:
    """With the writer's own checkpoint past what is written here, only the thread can have copied
    the log's pages into the database file (no connection closes meanwhile, which would too)."""
    db, path = store
    db.checkpoint_in_background(every=0.01)
    size = path.stat().st_size
    _write_pages(db, 3000)
    wait_until(lambda: path.stat().st_size >= size + 3000 * PAGE, what="the thread to checkpoint the log")


def _writer_backstop(db: Database) -> int:
    with db.write() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


@pytest.mark.parametrize(
    ("reserve", "pages", "threads"),
    [(2**30, 10_000, 1), (0, 10_000, 1), (64 * 2**20, 4096, 1), (8 * 2**20, 1000, 0)],
)
def test_a_server_on_sqlite_checkpoints_in_a_thread_while_it_serves(
    request: pytest.FixtureRequest, tmp_path: Path, reserve: int, pages: int, threads: int
) -> None:
    """Its writer checkpoints past as much log as a quarter of the disk's reserve holds (sign-in
    and reads write there once new data is refused; 0: not guarded). Where that is no more than
    SQLite's own 1,000 pages, the writer checkpoints as SQLite does, and no thread runs."""
    with start_backend_server(request, tmp_path, "sqlite", min_free_bytes=reserve) as running:
        path = Path(sa.make_url(running.app.state.config.database_url).database)
        assert _checkpoint_threads(path) == threads
        assert _writer_backstop(running.app.state.db) == pages
    assert _checkpoint_threads(path) == 0


def test_the_backstop_keeps_the_log_within_a_quarter_of_the_reserve() -> None:
    assert checkpoints.backstop(100 * 2**20) == 6400
    assert checkpoints.backstop(2**40) == checkpoints.MAX_BACKSTOP
    assert checkpoints.backstop(2**20) == checkpoints.DEFAULT_AUTOCHECKPOINT


def test_the_writer_still_checkpoints_past_the_backstop(store: tuple[Database, Path]) -> None:
    """A checkpointer that never runs (stuck, or behind) leaves the log bounded by the writer's
    own checkpoint at its backstop."""
    db, path = store
    db.checkpoint_in_background(every=3600.0, backstop=1500)
    _write_pages(db, 4000)
    assert 1500 <= _log_pages(path) < 1700


def test_a_checkpoint_that_keeps_failing_is_told_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """As on a full disk, every round fails until it is freed: one warning, not ten a second."""
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database" * 512)
    checkpointer = checkpoints.Checkpointer(str(broken), every=0.001)
    checkpointer.start()
    try:
        wait_until(lambda: checkpointer.rounds >= 20, what="rounds of checkpoints")
    finally:
        checkpointer.stop()
    failures = [r.getMessage() for r in caplog.records if r.name == checkpoints.__name__]
    assert len(failures) == 1 and "not a database" in failures[0], failures


def _dropped_by_the_server(postgres_url: str, db: Database) -> None:
    """Every connection to ``db``'s database terminated, as a restart of PostgreSQL would."""
    with db.read() as conn:
        name = conn.exec_driver_sql("SELECT current_database()").scalar_one()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
        wait_until(lambda: admin.execute(query, (name,)).fetchone() == (0,), what=f"{name}'s backends to end")


@pytest.fixture
def postgres_store(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A PostgreSQL store built with ``PING_AFTER_IDLE`` as the test sets it first (a factory)."""
    made: list[Database] = []

    def make(ping_after: float) -> Database:
        monkeypatch.setattr(database_module, "PING_AFTER_IDLE", ping_after)
        made.append(Database(fresh_database(postgres_url)))
        return made[-1]

    yield make
    for db in made:
        db.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    postgres_url: str, postgres_store: Any
) -> None:
    db = postgres_store(0.0)  # every connection counts as idle
    _dropped_by_the_server(postgres_url, db)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1


def test_a_connection_in_steady_use_is_not_pinged_and_its_loss_renews_the_pool(
    postgres_url: str, postgres_store: Any
) -> None:
    """Used a moment ago, it is handed out unpinged: the statement on the dropped connection fails
    (which shows no ping replaced it), and that disconnect renews the pool for what comes next."""
    db = postgres_store(3600.0)
    _dropped_by_the_server(postgres_url, db)
    with pytest.raises(sa.exc.OperationalError), db.read() as conn:
        conn.exec_driver_sql("SELECT 1")
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1


def test_a_request_on_a_connection_the_server_dropped_is_answered_503_and_the_next_goes_through(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The price of pinging only idle connections, as a client sees it: a retryable 503, not a 500."""
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE", 3600.0)
    with start_backend_server(request, tmp_path, "postgres") as server, server.client() as client:
        assert client.get("/api/v1/projects?entity=admin").status_code == 200
        _dropped_by_the_server(postgres_url, server.app.state.db)
        lost = client.get("/api/v1/projects?entity=admin")
        assert (lost.status_code, lost.json()["code"]) == (503, "service_unavailable"), lost.text
        assert lost.headers["Retry-After"] == "1"
        assert client.get("/api/v1/projects?entity=admin").status_code == 200
