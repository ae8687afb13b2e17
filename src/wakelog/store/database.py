"""Connecting to the metadata database, and keeping its schema current.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and every write goes through
one lock per process so writers queue instead of failing with "database is locked"; a server
checkpoints the log in a thread of its own, not in its writes' commits (``store/checkpoints.py``).
PostgreSQL goes through psycopg 3. Migrations are Alembic's: applied automatically on SQLite, by
``wakelog db upgrade`` on PostgreSQL; a database whose schema is newer than this wakelog knows is
refused.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy import event

from wakelog.errors import Error
from wakelog.store import checkpoints, pg_arrays
from wakelog.store.checkpoints import Checkpointer
from wakelog.store.writer_turn import WriterTurn

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


#: The execution option that asks PostgreSQL for a statement's results in binary format.
BINARY_RESULTS = "wakelog_binary_results"

Executable = TypeVar("Executable", bound=sa.Executable)


def binary_results(statement: Executable) -> Executable:
    """``statement``, its results fetched in PostgreSQL's binary format (ignored on SQLite).

    For the reads of packed series (``series_chunks.sketch`` and ``data``): in the text format a
    ``bytea`` travels hex-encoded, twice its size, and psycopg decodes the hex again (a chart of
    100 runs moves tens of MB of sketches). Binary results are per statement, not per connection:
    other reads keep the text format SQLAlchemy's type handling is tested with.
    """
    return statement.execution_options(**{BINARY_RESULTS: True})


def json_dumps(value: Any) -> str:
    """JSON text of a column's value: msgspec's (a live batch writes the run's summary, a page of
    the run table reads each run's config and summary: 5–15× the standard library's speed), the
    standard library's for what msgspec refuses (a subclass of ``str``, a key that is not a string
    or a number). Not ASCII-escaped; NaN and ±Inf (which PostgreSQL's JSON cannot hold, and which
    ``ingest._columns.json_safe`` spells as strings first) become null."""
    try:
        return _ENCODER.encode(value).decode()
    except TypeError:
        return json.dumps(value)


def json_loads(text: str | bytes) -> Any:
    """A JSON column's value: msgspec's parse (exact for integers of any size), the standard
    library's for what msgspec refuses (the ``NaN`` the standard library once wrote on SQLite)."""
    try:
        return _DECODER.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()

#: Every engine's JSON columns go through ``json_dumps`` and ``json_loads``.
_JSON = {"json_serializer": json_dumps, "json_deserializer": json_loads}


class SchemaError(Error):
    """The database schema is not the one this wakelog expects; the message says what to run."""


def normalise_url(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Occupancy:
    """Seconds during which at least one thread was inside: here, this process's SQLite write
    transactions, waiting for the write lock or holding it. Live pacing reads what share of a
    window that was (``server/pacing.py``): a writer busy all the time is a saturated server, even
    when its processes' CPU says otherwise (two processes queueing on one lock)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._inside = 0
        self._since = 0.0
        self._total = 0.0

    def __enter__(self) -> None:
        with self._lock:
            if not self._inside:
                self._since = self._clock()
            self._inside += 1

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self._inside -= 1
            if not self._inside:
                self._total += self._clock() - self._since

    def seconds(self) -> float:
        with self._lock:
            return self._total + (self._clock() - self._since if self._inside else 0.0)


class Database:
    """An engine plus the write discipline for its backend."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            connect_args = {"timeout": 30, "check_same_thread": False}
            self.engine = sa.create_engine(self.url, connect_args=connect_args, pool_size=8, **_JSON)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # The one writer connection; its transactions begin IMMEDIATE (``write``).
            self._writer = sa.create_engine(
                self.url, connect_args=connect_args, pool_size=1, max_overflow=0, **_JSON
            )
            event.listen(self._writer, "connect", _sqlite_pragmas)
            event.listen(self._writer, "connect", _sqlite_manual_transactions)
            event.listen(self._writer, "connect", self._writer_checkpoints)
        else:
            # 20 kept: an overflow connection, closed when given back, made each burst start
            # PostgreSQL backends anew (two processes at 200 live runs: 250-350 in 20 s, not 44)
            self.engine = sa.create_engine(self.url, pool_size=20, max_overflow=0, **_JSON)
            _ping_when_idle(self.engine, PING_AFTER_IDLE)
            event.listen(self.engine, "connect", pg_arrays.register)
            context: Any = self.engine.dialect.execution_ctx_cls
            self.engine.dialect.execution_ctx_cls = _binary_results_context(context)
            self._writer = self.engine
        # SQLite's writers, one at a time in this process (re-entered by a thread that prepares a
        # batch in the process's turn, ``writer_turn``) and in turns with other processes.
        self._write_lock = threading.RLock() if self.is_sqlite else None
        self._turn = WriterTurn(str(self._writer.url.database)) if self.is_sqlite else None
        #: How long this process's writes waited for or held SQLite's write lock (None: PostgreSQL's
        #: writers do not queue on one lock).
        self.writing = Occupancy() if self.is_sqlite else None
        self._checkpointer: Checkpointer | None = None
        self._backstop = checkpoints.DEFAULT_AUTOCHECKPOINT

    def checkpoint_in_background(
        self, every: float = checkpoints.EVERY, backstop: int = checkpoints.MAX_BACKSTOP
    ) -> None:
        """On SQLite, checkpoint the write-ahead log from a thread of its own until ``dispose``
        (``store/checkpoints.py``), not in the commits of the writer (a server's batches); the
        writer still checkpoints past ``backstop`` pages of log."""
        path, lock = self._writer.url.database, self._write_lock
        if lock is None or not path or path == ":memory:" or self._checkpointer is not None:
            return
        if backstop <= checkpoints.DEFAULT_AUTOCHECKPOINT:
            return  # no room for more log than SQLite keeps: it checkpoints in the writer, as before
        self._backstop = backstop
        self._checkpointer = Checkpointer(path, every)
        self._checkpointer.start()
        with lock, self._writer.connect() as conn:  # the pooled writer may be open already
            self._writer_checkpoints(conn.connection.dbapi_connection, None)

    def _writer_checkpoints(self, dbapi_conn: Any, _record: Any) -> None:
        """The writer checkpoints the log itself only past its backstop while a thread does it."""
        if self._checkpointer is not None:
            dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={self._backstop:d}")

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction (one at a time per process on SQLite).

        On SQLite it begins IMMEDIATE: it takes the write lock up front, waiting out another
        process's writer (taking turns, ``store/writer_turn.py``, else by SQLite's busy timeout)
        instead of failing when a read transaction would later need upgrading (several
        ``--workers`` share one file). Said here rather than in a ``begin`` event
        listener: any connection event makes SQLAlchemy dispatch every statement's events too,
        which cost a live run's batch more than this one statement.
        """
        lock, writing, turn = self._write_lock, self.writing, self._turn
        if lock is None or writing is None or turn is None:  # PostgreSQL
            with self._writer.begin() as conn:
                yield conn
            return
        with writing, lock, turn, self._writer.begin() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

    @contextlib.contextmanager
    def writer_turn(self) -> Iterator[None]:
        """On SQLite, this process's turn to write, held across the work that leads up to a write
        (``write`` inside it takes SQLite's lock only for the writes). A server process's threads
        share one GIL: work of another thread beside a write transaction stretches the time it
        holds the lock every process waits on, and two ``--workers`` then pipeline better with
        each one's work done while the other holds the lock. On PostgreSQL, nothing."""
        if self._write_lock is None:
            yield
            return
        with self._write_lock:
            yield

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        if self._turn is not None:
            self._turn.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()
        self._writer.dispose()

    # -- schema ----------------------------------------------------------------------------
    def _alembic_config(self) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        assert head is not None
        return head

    def upgrade(self, revision: str = "head") -> None:
        """Apply every migration this wakelog has that the database lacks (up to ``revision``)."""
        from alembic import command

        self._check_not_newer()
        command.upgrade(self._alembic_config(), revision)

    def check_schema(self, *, auto_upgrade: bool) -> None:
        """Make sure the schema is current: upgrade it (SQLite) or say how to (PostgreSQL)."""
        self._check_not_newer()
        if self.current_revision() == self.head_revision():
            return
        if auto_upgrade:
            self.upgrade()
            return
        raise SchemaError(
            f"the database schema is at {self.current_revision() or 'nothing'}, this wakelog needs "
            f"{self.head_revision()}: run `wakelog db upgrade --backend-store URL` first"
        )

    def _check_not_newer(self) -> None:
        from alembic.script import ScriptDirectory

        current = self.current_revision()
        if current is None:
            return
        script = ScriptDirectory.from_config(self._alembic_config())
        try:
            script.get_revision(current)
        except Exception:
            raise SchemaError(
                f"the database schema revision {current!r} is newer than this wakelog knows; "
                "upgrade wakelog (or point it at another database)"
            ) from None


#: A pooled PostgreSQL connection idle longer than this (seconds) is pinged before it is handed out.
PING_AFTER_IDLE = 1.0


def _ping_when_idle(engine: sa.Engine, after: float) -> None:
    """Make ``engine``'s pool ping a connection before handing it out only when it sat idle ``after``
    seconds or more; when the ping finds it dead, it and the pool's older connections are replaced.

    ``pool_pre_ping`` pings at every checkout: a round trip for every transaction, 0.1 ms of the
    server's CPU each, on a pool a busy server keeps using. A connection in steady use needs no
    ping: when PostgreSQL restarts, the next statement on it fails as a disconnect, which
    invalidates the whole pool (SQLAlchemy replaces every older connection at its next checkout).
    What the ping is for is a pool left idle across the restart, which the first requests after it
    would otherwise fail on. A pool event, not a connection event (``_binary_results_context``)."""

    def stamp(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def check(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")  # none: just connected (``info`` goes with the connection)
        if since is None or time.monotonic() - since < after:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            # dead after idling: the server restarted, so the pool's older connections are gone too
            raise sa.exc.InvalidatePoolError(f"a pooled connection is gone: {exc}") from exc

    event.listen(engine.pool, "checkin", stamp)
    event.listen(engine.pool, "checkout", check)


@functools.cache
def _binary_results_context(base: type[Any]) -> type[Any]:
    """``base`` (psycopg's execution context) that fetches a statement's results in binary when
    ``binary_results`` asked: psycopg does when a cursor's ``format`` says so (what
    ``connection.cursor(binary=True)`` sets), and SQLAlchemy opens a cursor per statement. A hook of
    the context, not a ``before_cursor_execute`` listener: any connection event makes SQLAlchemy
    dispatch every statement's events, which cost a live run's batch more than its statements."""
    from psycopg import pq

    class BinaryResultsContext(base):  # type: ignore[misc]
        def pre_exec(self) -> None:
            super().pre_exec()
            if self.execution_options.get(BINARY_RESULTS):
                self.cursor.format = pq.Format.BINARY

    return BinaryResultsContext


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA mmap_size=1073741824")  # reads of packed series skip page copies
    cursor.close()


def _sqlite_manual_transactions(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we say BEGIN ourselves (pysqlite would say BEGIN DEFERRED)
