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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from tests.harness import wait_until
from tests.server.conftest import fresh_database, start_backend_server
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
