"""Processes that write one SQLite file take turns on an ``flock`` beside it (``store/writer_turn.py``):
a write transaction holds it and the work before it (``writer_turn``) does not, a writer waits for
another process's transaction and goes on once that process is killed in it, and a folder where the
file cannot be made leaves the turns to SQLite's own lock."""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests._env import child_env
from wakelog.store.database import Database
from wakelog.store.writer_turn import SUFFIX


def taken(path: Path) -> bool:
    """Whether some open file holds the turn on ``path`` (probed from a descriptor of our own)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'store.db'}")
    database.upgrade()
    yield database
    database.dispose()


def test_a_write_transaction_holds_the_turn_and_lets_it_go(db: Database, tmp_path: Path) -> None:
    turn = tmp_path / f"store.db{SUFFIX}"
    with db.write() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        assert taken(turn)
    assert not taken(turn)
    with db.writer_turn():  # the work before a write: the process's own lock, not the file's turn
        assert not taken(turn)
        with db.write() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            assert taken(turn)
    assert not taken(turn)


HOLDER = textwrap.dedent(
    """
    import sys, time
    import sqlalchemy as sa
    from wakelog.store.database import Database
    db = Database(sys.argv[1])
    with db.write() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        print("holding", flush=True)
        time.sleep(600)
    """
)


def holder(url: str) -> subprocess.Popen[str]:
    """A process in the middle of a write transaction, until it is killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True, env=child_env()
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "holding\n"
    return process


@pytest.mark.process
def test_a_writer_waits_for_another_process_s_turn_and_goes_on_when_it_ends(
    db: Database, tmp_path: Path
) -> None:
    with db.write() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    process = holder(db.url)
    try:
        assert taken(tmp_path / f"store.db{SUFFIX}")
        wrote = threading.Event()

        def write() -> None:
            with db.write() as conn:
                conn.execute(sa.text("INSERT INTO t VALUES (2)"))
            wrote.set()

        writer = threading.Thread(target=write)
        writer.start()
        assert not wrote.wait(0.5), "the holder's transaction is open: this writer waits"
        process.kill()  # kill -9 in the middle of its transaction: its turn and SQLite's lock go with it
        process.wait(timeout=30)
        writer.join(timeout=30)
        assert wrote.is_set()
    finally:
        process.kill()
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT x FROM t")).scalars().all() == [2], "the killed one's row is gone"


def test_a_folder_where_the_turn_file_cannot_be_made_leaves_turns_to_sqlite(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / f"store.db{SUFFIX}").mkdir()  # in the way: the file cannot be opened
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with caplog.at_level(logging.WARNING, logger="wakelog.store.writer_turn"):
            for value in range(2):
                with db.write() as conn:
                    conn.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
                    conn.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": value})
        warnings = [r.getMessage() for r in caplog.records if r.name == "wakelog.store.writer_turn"]
        assert len(warnings) == 1 and f"store.db{SUFFIX}" in warnings[0] and "SQLite's lock" in warnings[0]
        with db.read() as conn:
            assert conn.execute(sa.text("SELECT x FROM t ORDER BY x")).scalars().all() == [0, 1]
    finally:
        db.dispose()
