"""Upload an import folder while its source is still being read, as a live run's uploader does.

Reading a large source and uploading it take about as long each, and the server does its part in
its own process: sending each checkpoint's records as soon as they are on disk overlaps the two.
This is only a head start, in a thread: it stops at the first error (the final upload, which
retries and reports, takes over) and when the read is done. The run log is written only at
checkpoints (``ImportedRun``), so nothing it sends is ever cut away by a later import.
"""

from __future__ import annotations

import threading
from pathlib import Path

from wakelog._threads import start_background
from wakelog.errors import Error
from wakelog.integration.importing._run import RunIdentity
from wakelog.runlog.syncstate import upload_lock
from wakelog.transport.client import ServerClient
from wakelog.transport.uploader import POLL_SECONDS, Uploader


class Tail:
    """Sends what the folder's run log holds, in a thread, until ``stop()``."""

    def __init__(self, folder: Path, identity: RunIdentity, client: ServerClient) -> None:
        self._folder, self._identity, self._client = folder, identity, client
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wakelog-import-upload", daemon=True)

    def start(self) -> None:
        start_background(self._thread)

    def stop(self) -> None:
        """Stop after the batch in flight (its ack is saved, so the final upload goes on from it)."""
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        ident = self._identity
        with upload_lock(self._folder) as mine:
            if not mine:
                return  # someone else uploads this folder: the final upload waits for them
            uploader = Uploader(
                self._folder, self._client, ident.project, ident.run_id, entity=ident.entity, linger=0.0
            )
            while not self._stopping.is_set():
                try:
                    sent = uploader.step(live=True)
                except (Error, OSError):
                    return  # left to the final upload, which retries, waits and reports
                if not sent:
                    self._stopping.wait(POLL_SECONDS)
