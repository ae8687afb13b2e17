"""Turns at writing one SQLite file, taken by the processes that share it: an exclusive ``flock``
on a file beside the database (``<database>-writer``).

SQLite lets one writer in at a time. A process that finds its write lock taken sleeps in SQLite's
busy handler (1, 2, 5, 10, … up to 100 ms between tries) and tries again, so two server processes
that keep writing (``--workers 2`` under live ingest) take turns badly: the one that just committed
begins its next transaction at once while the other sleeps, and the lock lies idle between a
commit and the sleeper's next try. A process blocked on an ``flock`` is woken when it is released,
so the processes take turns as fast as they commit, each getting its share. The lock goes with its
process: one killed while holding it holds nothing.

A writer that does not take turns here (the ``sqlite3`` shell, an older wakelog) still meets
SQLite's own lock and busy handler, as before. A folder where the file cannot be made leaves the
turns to SQLite alone (a warning says so once).
"""

from __future__ import annotations

import fcntl
import logging
import os

_log = logging.getLogger(__name__)

#: Added to the database file's name for the file the turns are taken on.
SUFFIX = "-writer"


class WriterTurn:
    """This process's turn at writing the SQLite database at ``path``, held while inside. One thread
    at a time, and closed only when none writes: the caller holds the process's own write lock
    (``Database.write``)."""

    def __init__(self, path: str) -> None:
        self.path = path + SUFFIX
        self._fd: int | None = None
        self._failed = False

    def __enter__(self) -> None:
        fd = self._file()
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without the GIL until the holder lets go

    def __exit__(self, *_exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _file(self) -> int | None:
        """The file's descriptor, opened at the first turn (None: it cannot be, said once)."""
        if self._fd is None and not self._failed:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                self._failed = True
                note = "cannot open %s (%s): this process's writes wait on SQLite's lock alone"
                _log.warning(note, self.path, exc)
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
