"""``sync.json`` in a run folder: how far the run has reached the server.

Written atomically by whoever uploads (the uploader process or ``wakelog sync``), read by
``finish()`` to show progress and by ``wakelog sync --view``. The server's ack stays the truth;
this file only saves a rescan and reports.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from wakelog._backoff import Backoff

FILE = "sync.json"
LOCK = ".upload.lock"

_log = logging.getLogger(__name__)


@dataclass
class SyncState:
    base_url: str = ""
    run_path: str = ""  # entity/project/run_id on the server
    acked_seq: int = -1
    log_offset: int = (
        0  # where reading the run log resumes: at or before the record after acked_seq (0: unknown)
    )
    last_seq: int = -1  # the last seq in the run log, once the run has ended (-1: not known yet)
    files: dict[str, list[Any]] = field(default_factory=dict)  # name -> [size, mtime, sha256]
    uploading: list[Any] | None = None  # [name, bytes sent, size] while a large file goes up
    complete: bool = False
    error: str | None = None
    refused: bool = False  # the server refused the run for good (``error`` says why and what to do)
    stop_requested: bool = False  # someone pressed Stop in the web app (``sdk/_stop_watch.py``)
    pid: int | None = None
    updated_at: float = 0.0
    #: Artifact records (``[seq, type, data]``) sent but not yet acted on, oldest first.
    artifact_queue: list[list[Any]] = field(default_factory=list)
    artifact_seq: int = -1  # the last artifact record acted on
    #: What the server answered for each logged artifact (by its client id): the ArtifactVersion,
    #: or ``{"error": …}``; ``Artifact.wait()`` in the training process reads it here.
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, run_dir: Path) -> SyncState:
        try:
            data = json.loads((run_dir / FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, run_dir: Path) -> None:
        """Write the state, as far as the disk lets: the server's ack is the truth and a later
        upload asks for it, so a full or read-only run folder must not stop an upload or a sync."""
        self.updated_at = time.time()
        tmp = run_dir / f".{FILE}.{os.getpid()}"
        try:
            tmp.write_text(json.dumps(asdict(self)), encoding="utf-8")
            tmp.replace(run_dir / FILE)
        except OSError as exc:
            _log.debug("wakelog: cannot save %s in %s: %s", FILE, run_dir, exc)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def upload_lock(run_dir: Path, wait: float = 0.0) -> Iterator[bool]:
    """Hold the run's upload lock; yields False if someone else still holds it after ``wait`` s."""
    fd = os.open(run_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    backoff = Backoff(0.05, 1.0)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(min(backoff.next(), max(deadline - time.monotonic(), 0.0)))
        yield True
    finally:
        os.close(fd)
