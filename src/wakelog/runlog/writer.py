"""Append framed records to a run log (see ``_format``).

The writer is used by one thread at a time (the SDK's writer thread); it buffers in memory and
``flush()`` hands the bytes to the operating system, which is all a ``kill -9`` of the training
process needs to keep them. ``fsync`` is only done on ``close()``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from wakelog._limits import MAX_RECORD_BYTES
from wakelog.errors import Error
from wakelog.runlog._format import FRAME_SIZE, encode_frame, encode_header


class RecordTooLarge(Error, ValueError):
    """A record too large for any upload batch (``wakelog._limits.MAX_RECORD_BYTES``)."""


class RunLogWriter:
    """Appends records with consecutive sequence numbers, starting at ``start_seq``."""

    def __init__(self, path: str | os.PathLike[str], *, start_seq: int = 0) -> None:
        self.path = Path(path)
        self.next_seq = start_seq
        # Unbuffered: our own list is the buffer, so a failed write leaves no half-copy in a
        # second buffer, and "ab" never truncates: a writer opened on an existing log continues it.
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - open for the run's life
        self._pending: list[bytes] = []
        if self._file.seek(0, os.SEEK_END) == 0:
            self._pending.append(encode_header())
            self.flush()

    def append(self, record_type: str, data: Any, time: float) -> int:
        """Frame one record into the buffer and return its sequence number. A record that could
        never be uploaded (``RecordTooLarge``) is refused and takes no sequence number."""
        seq = self.next_seq
        frame = encode_frame(seq, record_type, time, data)
        if len(frame) - FRAME_SIZE > MAX_RECORD_BYTES:
            raise RecordTooLarge(
                f"a {record_type} record of {len(frame) - FRAME_SIZE} bytes is over the "
                f"{MAX_RECORD_BYTES} bytes a record may take"
            )
        self._pending.append(frame)
        self.next_seq = seq + 1
        return seq

    def flush(self) -> None:
        """Write the buffered records to the OS. On error the buffer is kept for the next try."""
        if not self._pending:
            return
        data = memoryview(b"".join(self._pending))
        start = self._file.seek(0, os.SEEK_END)
        try:
            while data:
                written = self._file.write(data)
                data = data[written:]
        except OSError:
            # Undo a partial write so that a later retry does not leave a torn record mid-file.
            try:
                self._file.truncate(start)
                self._file.seek(start)
            except (OSError, ValueError):
                pass
            raise
        self._pending.clear()

    @property
    def pending_bytes(self) -> int:
        return sum(len(frame) for frame in self._pending)

    def drop_pending(self) -> int:
        """Forget buffered records that cannot be written; returns how many were dropped."""
        dropped = len(self._pending)
        self._pending.clear()
        return dropped

    def close(self) -> None:
        try:
            self.flush()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()
