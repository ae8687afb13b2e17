"""Where a run lives: its entity once the server named it, and how far its upload got.

An online run's entity is known at ``init()`` when it was given, or when a server named the key's
user before (``sdk/_login.known_entity``). Otherwise the run's uploader asks the server first
thing and writes the answer into the run folder's ``sync.json``; ``server_entity`` reads it there,
waiting a moment for the uploader the first time — only the caller of ``run.entity`` waits, never
``init()`` or ``log()``. ``RunStatus`` is wandb's answer to ``run.status()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wakelog._backoff import Backoff
from wakelog.runlog.syncstate import SyncState

#: How long the first ``run.entity`` of a run whose entity is not known yet waits for the uploader.
ENTITY_WAIT = 3.0


@dataclass
class RunStatus:
    """How far a run has reached the server (``run.status()``, as in wandb): the records written,
    those the server has not acknowledged yet, and when it last acknowledged some."""

    sync_items_total: int = 0
    sync_items_pending: int = 0
    sync_time: datetime | None = None


def server_entity(run_dir: Path, uploader_alive: Callable[[], bool], wait: float) -> str | None:
    """The entity the run's uploader resolved, waiting up to ``wait`` s while it is alive and has
    neither resolved it nor failed to reach the server; None when it does not know (yet)."""
    deadline = time.monotonic() + wait
    backoff = Backoff(0.01, 0.2)
    while True:
        state = SyncState.load(run_dir)
        if state.run_path:
            return state.run_path.split("/", 1)[0]
        left = deadline - time.monotonic()
        if state.error or left <= 0 or not uploader_alive():
            return None
        time.sleep(min(backoff.next(), left))


def run_status(run_dir: Path, records: int) -> RunStatus:
    """``records`` written so far, against what the uploader reports in ``sync.json``."""
    state = SyncState.load(run_dir)
    acked = min(max(state.acked_seq + 1, 0), records)
    when = datetime.fromtimestamp(state.updated_at) if acked and state.updated_at else None
    return RunStatus(sync_items_total=records, sync_items_pending=records - acked, sync_time=when)
