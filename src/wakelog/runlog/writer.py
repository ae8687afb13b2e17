"""Append framed records to a run log (see ``_format``).

The writer is used by one thread at a time (the SDK's writer thread); it buffers in memory and
``flush()`` hands the bytes to the operating system, which is all a ``kill -9`` of the training
process needs to keep them. ``fsync`` is only done on ``close()``.

A full disk never tears a record: ``flush()`` writes the records that fit, whole, and keeps the
rest pending, so a backlog catches up as far as freed space allows. Pending records beyond
``max_pending`` bytes (and all of them at ``close()``) overflow to a *spill log* at ``spill_path``
(another folder, chosen by the caller): a run log of its own that starts with a copy of the run's
identity record, so ``wakelog sync`` can upload it after the run folder. Later flushes copy spilled
records back into the run log, oldest first, once it can take them. Records that fit nowhere are
dropped and counted by sequence number (``Shortfall``).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from wakelog._limits import MAX_RECORD_BYTES
from wakelog.errors import Error
from wakelog.runlog._format import FRAME, FRAME_SIZE, HEADER_SIZE, RecordType, encode_frame, encode_header


class RecordTooLarge(Error, ValueError):
    """A record too large for any upload batch (``wakelog._limits.MAX_RECORD_BYTES``)."""


#: Opens a file for appending; the seam through which tests put a small disk under the writer.
OpenFile = Callable[[Path], BinaryIO]
#: Pending bytes kept in memory while the run log cannot take them, before they spill.
MAX_PENDING_BYTES = 64 * 1024 * 1024
#: How much one write (and one read back from the spill) handles at a time.
CHUNK_BYTES = 1024 * 1024

Frames = deque[tuple[int, bytes]]  # (seq, framed bytes), oldest first


def open_append(path: Path) -> BinaryIO:
    # Unbuffered: our own queue is the buffer, so a failed write leaves no half-copy in a second
    # buffer, and "ab" never truncates: a writer opened on an existing log continues it.
    return open(path, "ab", buffering=0)


@dataclass(frozen=True)
class Shortfall:
    """Where the records that are not in the run log went; ranges are inclusive ``(first, last)`` seqs."""

    path: Path
    logged: int  # records written to the run log by this writer
    spill_path: Path | None
    spilled: list[tuple[int, int]]
    lost: list[tuple[int, int]]

    @property
    def spilled_count(self) -> int:
        return _count(self.spilled)

    @property
    def lost_count(self) -> int:
        return _count(self.lost)


class RunLogWriter:
    """Appends records with consecutive sequence numbers, starting at ``start_seq``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        start_seq: int = 0,
        spill_path: Path | None = None,
        max_pending: int = MAX_PENDING_BYTES,
        open_file: OpenFile = open_append,
    ) -> None:
        self.path = Path(path)
        self.next_seq = start_seq
        self.spill_path = spill_path
        self.max_pending = max_pending
        self.logged = 0
        self.lost: list[tuple[int, int]] = []
        self._open = open_file
        self._file = open_file(self.path)
        self._memory: Frames = deque()
        self._memory_bytes = 0
        self._spill: _Spill | None = None
        self._identity: bytes | None = None  # the first ``run`` record, the spill log's first record
        if self._file.seek(0, os.SEEK_END) == 0:
            error = _append_whole(self._file, deque([(-1, encode_header())]))[1]
            if error is not None:
                raise error

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
        if record_type == RecordType.RUN and self._identity is None:
            self._identity = frame
        self._memory.append((seq, frame))
        self._memory_bytes += len(frame)
        self.next_seq = seq + 1
        return seq

    def flush(self) -> None:
        """Write pending records to the OS, oldest first and whole. Raises ``OSError`` if some are
        still pending (they stay queued or spilled, see the module doc) — never a torn record."""
        error = self._copy_back() if self._spill is not None else None
        if self._spill is None:
            written, error = _append_whole(self._file, self._memory)
            self.logged += len(written)
            self._memory_bytes = sum(len(frame) for _, frame in self._memory)  # what still waits
        if error is None:
            return
        if self._spill is not None or self._memory_bytes > self.max_pending:
            self._to_spill()
        if self._memory_bytes > 2 * self.max_pending:
            self.drop_pending()
        raise error

    @property
    def pending_bytes(self) -> int:
        """Bytes waiting in memory (spilled records not counted)."""
        return self._memory_bytes

    def drop_pending(self) -> int:
        """Forget the records waiting in memory; they are counted in ``lost``. Returns how many."""
        seqs = [seq for seq, _ in self._memory]
        _add_ranges(self.lost, seqs)
        self._memory.clear()
        self._memory_bytes = 0
        return len(seqs)

    def shortfall(self) -> Shortfall | None:
        """What is not in the run log and where it is; None when everything is."""
        spilled = list(self._spill.ranges) if self._spill is not None else []
        if not spilled and not self.lost and not self._memory:
            return None
        lost = list(self.lost)
        _add_ranges(lost, [seq for seq, _ in self._memory])
        spill_path = self._spill.path if self._spill is not None else None
        return Shortfall(self.path, self.logged, spill_path, spilled, lost)

    def close(self) -> Shortfall | None:
        """Write what fits, spill the rest (dropping what fits nowhere), fsync; returns the shortfall."""
        try:
            try:
                self.flush()
            except OSError:
                self._to_spill()
                self.drop_pending()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()
            if self._spill is not None:
                self._spill.close()
        return self.shortfall()

    # -- overflow -----------------------------------------------------------------------------
    def _to_spill(self) -> None:
        """Move the records waiting in memory to the end of the spill log, as many as fit."""
        if self._spill is None:
            if self.spill_path is None:
                return
            try:
                self._spill = _Spill(self.spill_path, self._identity, self._open)
            except OSError:
                return
        self._spill.add(self._memory)
        self._memory_bytes = sum(len(frame) for _, frame in self._memory)

    def _copy_back(self) -> OSError | None:
        """Copy spilled records into the run log, oldest first, until done or it is full."""
        spill = self._spill
        assert spill is not None
        while spill.ranges:
            frames = spill.read_chunk()
            if not frames:  # the spill log was cut short behind our back: those records are gone
                self.lost.extend(spill.ranges)
                spill.ranges.clear()
                break
            size = sum(len(frame) for _, frame in frames)
            written, error = _append_whole(self._file, frames)
            self.logged += len(written)
            spill.copied(len(written), size - sum(len(frame) for _, frame in frames))
            if error is not None:
                return error
        spill.close(remove=True)
        self._spill = None
        return None


class _Spill:
    """The spill log: records the run log could not take, the seqs it holds and how far they were
    copied back."""

    def __init__(self, path: Path, identity: bytes | None, open_file: OpenFile) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file = open_file(path)
        self.ranges: list[tuple[int, int]] = []
        self._reader: BinaryIO | None = None
        if self.file.seek(0, os.SEEK_END) == 0:
            head: Frames = deque([(-1, encode_header())])
            if identity is not None:
                head.append((-1, identity))
            _, error = _append_whole(self.file, head)
            if error is not None:
                self.close(remove=True)
                raise error
        self.offset = self.file.seek(0, os.SEEK_END)  # where the records to copy back start

    def add(self, memory: Frames) -> None:
        """Move records from ``memory`` to the end of the spill log, as many as fit."""
        written, _ = _append_whole(self.file, memory)
        _add_ranges(self.ranges, written)

    def read_chunk(self) -> Frames:
        """The next whole records to copy back (about a chunk, at least one), with their seqs."""
        if self._reader is None:
            self._reader = open(self.path, "rb")  # noqa: SIM115 - kept until the spill is done
        self._reader.seek(self.offset)
        data = self._reader.read(CHUNK_BYTES)
        frames: Frames = deque()
        seqs = (seq for first, last in self.ranges for seq in range(first, last + 1))
        pos = 0
        while pos + FRAME.size <= len(data):
            size = FRAME.size + FRAME.unpack_from(data, pos)[0]
            if pos + size > len(data):
                if frames:
                    break
                data += self._reader.read(pos + size - len(data))  # one record larger than a chunk
                if pos + size > len(data):
                    break
            seq = next(seqs, None)
            if seq is None:
                break
            frames.append((seq, data[pos : pos + size]))
            pos += size
        return frames

    def copied(self, count: int, size: int) -> None:
        """``count`` records (``size`` bytes) from the front are in the run log now."""
        self.offset += size
        while count:
            first, last = self.ranges[0]
            take = min(count, last - first + 1)
            if take == last - first + 1:
                self.ranges.pop(0)
            else:
                self.ranges[0] = (first + take, last)
            count -= take

    def close(self, *, remove: bool = False) -> None:
        for handle in (self.file, self._reader):
            if handle is not None and not handle.closed:
                handle.close()
        if remove:
            self.path.unlink(missing_ok=True)
            try:
                self.path.parent.rmdir()
            except OSError:
                pass  # not empty: another part of the run is there


def _append_whole(file: BinaryIO, frames: Frames) -> tuple[list[int], OSError | None]:
    """Append ``frames`` front to back, removing each one written; on an error the file ends after
    the last whole frame written and the error is returned. Returns the seqs written."""
    written: list[int] = []
    start = file.seek(0, os.SEEK_END)
    while frames:
        chunk: list[tuple[int, bytes]] = []
        size = 0
        while frames and (not chunk or size + len(frames[0][1]) <= CHUNK_BYTES):
            seq, frame = frames.popleft()
            chunk.append((seq, frame))
            size += len(frame)
        data = memoryview(b"".join(frame for _, frame in chunk))
        done = 0
        try:
            while done < len(data):
                done += file.write(data[done:]) or 0
        except OSError as exc:
            whole = _keep_whole(chunk, done, frames)
            written.extend(seq for seq, _ in chunk[:whole])
            start += sum(len(frame) for _, frame in chunk[:whole])
            _truncate(file, start)
            return written, exc
        written.extend(seq for seq, _ in chunk)
        start += size
    return written, None


def _keep_whole(chunk: list[tuple[int, bytes]], done: int, frames: Frames) -> int:
    """How many frames of ``chunk`` the ``done`` bytes hold whole; the rest go back to ``frames``."""
    whole, size = 0, 0
    while whole < len(chunk) and size + len(chunk[whole][1]) <= done:
        size += len(chunk[whole][1])
        whole += 1
    frames.extendleft(reversed(chunk[whole:]))
    return whole


def _truncate(file: BinaryIO, end: int) -> None:
    """Cut a partly written frame away so that the file ends on a record boundary."""
    try:
        file.truncate(end)
        file.seek(end)
    except (OSError, ValueError):
        pass


def _add_ranges(ranges: list[tuple[int, int]], seqs: list[int]) -> None:
    """Append ascending ``seqs`` to ascending inclusive ranges, merging neighbours."""
    for seq in seqs:
        if ranges and ranges[-1][1] + 1 == seq:
            ranges[-1] = (ranges[-1][0], seq)
        else:
            ranges.append((seq, seq))


def _count(ranges: list[tuple[int, int]]) -> int:
    return sum(last - first + 1 for first, last in ranges)


__all__ = ["HEADER_SIZE", "MAX_PENDING_BYTES", "OpenFile", "RunLogWriter", "Shortfall", "open_append"]
