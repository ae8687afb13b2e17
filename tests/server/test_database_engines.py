"""The database engines as the store sets them up.

SQLite's write transactions take the database's write lock as they begin (BEGIN IMMEDIATE): one that
reads first and writes later never fails to upgrade its lock because another process (a second
``--workers`` process) wrote meanwhile; it waits for that writer up front instead. No engine has
connection events: any listener makes SQLAlchemy dispatch every statement's events, which cost a live
run's batch (half a dozen statements) more than what the listeners did. (PostgreSQL's binary results,
an execution context hook instead, are tested in test_query_plans.py.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

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
