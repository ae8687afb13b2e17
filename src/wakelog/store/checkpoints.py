"""SQLite's write-ahead log checkpointed in a thread of its own, off the writer's lock.

By default SQLite checkpoints in the commit that takes the log past 1,000 pages: that commit copies
the log's pages back into the database file and syncs both, while it holds the one write lock
every other ingest batch waits on. A server of a few hundred live runs commits a hundred pages a
batch, so a batch in every ten or so paid for a checkpoint (0.27 of 0.7 ms per commit at 400 runs
× 50 keys). ``Checkpointer`` runs ``PASSIVE`` checkpoints from its own connection instead, every
``every`` seconds: they copy what the log holds alongside the writer (SQLite lets them), and
without Python's lock for the copying and syncing. The writer's own checkpoint moves out to a
backstop (``backstop``: up to 10,000 pages, within the disk's reserve), where it bounds the log:
under steady load SQLite starts the log over only after the writer's own checkpoint.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

_log = logging.getLogger(__name__)

#: SQLite's own checkpoint point (``wal_autocheckpoint``, in pages), and its page size: wakelog
#: changes neither.
DEFAULT_AUTOCHECKPOINT = 1000
PAGE_BYTES = 4096
#: The furthest the writer's own checkpoint moves while a checkpointer runs (40 MB of log). Under
#: steady load the log is never all copied between two commits, so SQLite cannot start it over
#: until the writer checkpoints: the log grows to this, and its file keeps that size.
MAX_BACKSTOP = 10_000
#: Seconds between two checkpoints (one finds nothing to do in a few microseconds).
EVERY = 0.1
#: The thread's name, followed by the database's path.
THREAD_NAME = "wakelog-checkpoints"


class Checkpointer:
    """A daemon thread that checkpoints the SQLite database at ``path`` every ``every`` seconds
    until ``stop``. A checkpoint that fails (a full disk) is tried again next round."""

    def __init__(self, path: str, every: float = EVERY) -> None:
        self.path, self.every = path, every
        self.rounds = 0  # checkpoints tried so far
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            name = f"{THREAD_NAME} {self.path}"
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False)
        failing = False  # said once, not every round (a full disk fails every one until freed)
        try:
            while not self._stopping.wait(self.every):
                try:  # as much of the log as no reader still needs, waiting for no one
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:
                    if not failing:
                        _log.warning(
                            "checkpointing %s failed (tried again every %s s): %s", self.path, self.every, exc
                        )
                    failing = True
                else:
                    if failing:
                        _log.warning("checkpointing %s works again", self.path)
                    failing = False
                self.rounds += 1
        finally:
            conn.close()


def backstop(reserve: int) -> int:
    """Where the writer checkpoints itself (pages of log) while a checkpointer runs, on a disk
    where ``reserve`` bytes are kept free (``server/diskguard.py``: what sign-in and reads still
    write to once new data is refused; 0: not guarded). The log may take a quarter of it; never
    sooner than SQLite would anyway."""
    if reserve <= 0:
        return MAX_BACKSTOP
    return max(DEFAULT_AUTOCHECKPOINT, min(MAX_BACKSTOP, reserve // 4 // PAGE_BYTES))
