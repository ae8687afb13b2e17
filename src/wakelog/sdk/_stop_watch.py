"""The web app's Stop button, heard by the training.

The server answers a stopped run's next batch (or heartbeat) with ``"stop": true``; the uploader
keeps that in ``sync.json``. A thread here looks at it every few seconds — a file read, no network —
and stops the run as wandb's client does: a script's main thread gets a ``KeyboardInterrupt``, so
its own ``finally`` blocks and ``finish()`` run and the run ends ``killed``; a run made in another
thread (a sweep function's trial) has its next ``log()`` raise instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from wakelog._threads import start_background
from wakelog.runlog.syncstate import SyncState

#: How often the thread reads ``sync.json`` (wandb's client asks the server every 15 s or so).
INTERVAL = 2.0


class StopWatch:
    """A run's ``Helper`` that calls ``on_stop`` once, when the server says the run was stopped."""

    def __init__(self, run_dir: Path, on_stop: Callable[[], None], interval: float = INTERVAL) -> None:
        self.run_dir = run_dir
        self.on_stop = on_stop
        self.interval = interval
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="wakelog-stop-watch", daemon=True)
        start_background(self._thread)

    def stop(self) -> None:
        self._done.set()

    def _watch(self) -> None:
        while not self._done.wait(self.interval):
            if SyncState.load(self.run_dir).stop_requested:
                if not self._done.is_set():
                    self.on_stop()
                return
