"""The disk-space guard: new data is refused with 507 while sign-in and reads keep working.

SQLite cannot write a single row once its disk is full (sign-in included), so the server stops
taking new data (ingest batches, uploads, attached files) while the free space on the disk of
the database or of the blob folder is below a reserve. The reserve is what sign-in, sessions and
the data already accepted still need. Free space is measured with ``statvfs`` (about a
microsecond), at most once per ``ttl`` seconds per disk, and what the server accepts meanwhile is
counted against that measurement (``used``), so a burst of batches cannot run the disk past the
reserve between two measurements. ``used`` counts a batch's bytes, not the pages it writes (some
50 times more at 5 keys), so the measurements come often: every 20 ms. At 0.2 s, one quick client's
batches filled the last 2 MB of a disk between two of them once SQLite's log was checkpointed in
the background (``store/checkpoints.py``), which grows the database file as the log grows.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy.engine import make_url

from wakelog.server.config import ServerConfig
from wakelog.server.errors import InsufficientStorage


def free_bytes(path: str) -> int:
    """Bytes an unprivileged process may still write on the file system holding ``path``."""
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def guarded_paths(config: ServerConfig) -> list[str]:
    """The local folders whose disks the server writes new data to: the SQLite database's and
    the blob folder's (a PostgreSQL server or an object store watches its own space)."""
    paths = []
    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        paths.append(str(Path(str(url.database)).parent))
    if "://" not in config.blob_root:
        paths.append(config.blob_root)
    return list(dict.fromkeys(paths))


class DiskGuard:
    """Refuses new data when a guarded disk has less than ``reserve`` bytes free."""

    def __init__(
        self,
        paths: Iterable[str],
        reserve: int,
        *,
        probe: Callable[[str], int] = free_bytes,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = 0.02,
    ) -> None:
        self.paths, self.reserve = list(paths), reserve
        self._probe, self._clock, self._ttl = probe, clock, ttl
        self._measured: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def _free(self, path: str) -> int:
        now = self._clock()
        with self._lock:
            cached = self._measured.get(path)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        try:
            free = self._probe(path)
        except FileNotFoundError:
            return self.reserve  # not created yet: nothing written there to guard
        with self._lock:
            self._measured[path] = (now, free)
        return free

    def check(self) -> None:
        """Raise ``InsufficientStorage`` if a guarded disk is below the reserve."""
        if self.reserve <= 0:
            return
        for path in self.paths:
            free = self._free(path)
            if free < self.reserve:
                raise InsufficientStorage(
                    f"the server's disk is almost full: {human(free)} free where it keeps data, below "
                    f"the {human(self.reserve)} it keeps in reserve; new data is refused until its "
                    "administrator frees space (sign-in and reading still work)"
                )

    def used(self, nbytes: int) -> None:
        """Count ``nbytes`` of accepted data against the last measurements. Twice over: a database
        writes a row to its journal (SQLite's WAL, PostgreSQL's) before its file, and an upload is
        staged before it is published."""
        with self._lock:
            self._measured = {p: (t, free - 2 * nbytes) for p, (t, free) in self._measured.items()}

    def forget(self) -> None:
        """Measure again at the next check (after space was freed or used)."""
        with self._lock:
            self._measured.clear()
