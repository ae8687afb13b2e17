"""Read a run log, complete or still being written, and report any damage in it.

This is the one reader of the format: the uploader, ``wakelog sync``, importers and tests use it.
It never gives up on a file: after a damaged stretch it looks for the next intact record, so
every complete record before (and after) the damage is recovered, and the damage is reported
with its offset and length.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from wakelog.errors import Error
from wakelog.runlog._format import (
    FORMAT_VERSION,
    FRAME,
    FRAME_SIZE,
    HEADER,
    HEADER_SIZE,
    MAGIC,
    MAX_PAYLOAD,
    frame_crc,
)


class RunLogError(Error):
    """The file is not a run log, or is of a format version this reader does not know."""


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    type: str
    time: float
    data: Any
    offset: int  # where the record's frame starts in the file


@dataclass(frozen=True, slots=True)
class Damage:
    offset: int
    length: int
    reason: str

    def __str__(self) -> str:
        return f"{self.length} damaged bytes at offset {self.offset}: {self.reason}"


@dataclass(slots=True)
class ReadResult:
    records: list[Record] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)
    #: Where the next read should start: just after the last intact record or skipped damage.
    next_offset: int = HEADER_SIZE
    #: Bytes after ``next_offset`` that do not (yet) form a whole record.
    incomplete_tail: int = 0


_decoder = msgspec.msgpack.Decoder()
_READ_CHUNK = 8 * 1024 * 1024


def check_header(path: str | os.PathLike[str]) -> int:
    """Return the format version of the run log at ``path``, or raise ``RunLogError``."""
    with open(path, "rb") as f:
        head = f.read(HEADER_SIZE)
    if len(head) < HEADER_SIZE:
        raise RunLogError(f"{path}: too short to be a run log ({len(head)} bytes)")
    magic, version, _ = HEADER.unpack(head)
    if magic != MAGIC:
        raise RunLogError(f"{path}: not a wakelog run log (magic {magic!r})")
    if version > FORMAT_VERSION:
        raise RunLogError(
            f"{path}: run-log format version {version} is newer than this wakelog reads "
            f"({FORMAT_VERSION}); upgrade wakelog"
        )
    return int(version)


def _parse_at(buf: bytes, pos: int) -> tuple[Record | None, int, str]:
    """Try to parse one frame at ``pos``: (record, frame size, "") or (None, needed, reason).

    A reason of "" with no record means the buffer ends inside the frame (it may still grow).
    """
    if len(buf) - pos < FRAME_SIZE:
        return None, FRAME_SIZE, ""
    length, crc = FRAME.unpack_from(buf, pos)
    if length > MAX_PAYLOAD:
        return None, 0, f"implausible record length {length}"
    end = pos + FRAME_SIZE + length
    if end > len(buf):
        return None, FRAME_SIZE + length, ""
    payload = memoryview(buf)[pos + FRAME_SIZE : end]
    if frame_crc(buf[pos : pos + 4], payload) != crc:
        return None, 0, "checksum mismatch"
    try:
        seq, record_type, time, data = _decoder.decode(payload)
    except (msgspec.DecodeError, ValueError, TypeError):
        return None, 0, "undecodable payload"
    return Record(seq, record_type, time, data, pos), FRAME_SIZE + length, ""


def _resync(buf: bytes, start: int) -> int:
    """The offset of the next intact frame after ``start``, or ``len(buf)`` if there is none."""
    for pos in range(start + 1, len(buf) - FRAME_SIZE + 1):
        record, _, _ = _parse_at(buf, pos)
        if record is not None:
            return pos
    return len(buf)


def read_runlog(
    path: str | os.PathLike[str],
    offset: int = HEADER_SIZE,
    *,
    final: bool = True,
    max_bytes: int | None = None,
    max_records: int | None = None,
) -> ReadResult:
    """Read the records from ``offset`` on.

    ``final=False`` is for a log that may still be written: an incomplete last record is left
    for the next read (``incomplete_tail``) instead of being reported as a torn tail.
    ``max_bytes`` bounds how much is read in one call, ``max_records`` how many records are
    returned (the rest is not parsed); continue from ``next_offset``.
    """
    check_header(path)
    offset = max(offset, HEADER_SIZE)
    result = ReadResult(next_offset=offset)
    with open(path, "rb") as f:
        f.seek(offset)
        want = _READ_CHUNK if max_bytes is None else max_bytes
        buf = f.read(want)
        pos = 0
        limit = math.inf if max_records is None else max_records
        while len(result.records) < limit:
            record, size, reason = _parse_at(buf, pos)
            if record is not None:
                result.records.append(Record(record.seq, record.type, record.time, record.data, offset + pos))
                pos += size
                continue
            if not reason:  # the buffer ends inside a frame: read more if the file has more
                if max_bytes is not None and result.records:
                    break
                more = f.read(max(size - (len(buf) - pos), want))
                if more:
                    buf = buf[pos:] + more
                    offset += pos
                    pos = 0
                    continue
                # At the end of the file. An intact record further on means the length here
                # is damaged (it points past the end), not that the writer is mid-record.
                skip_to = _resync(buf, pos)
                if skip_to < len(buf):
                    result.damage.append(Damage(offset + pos, skip_to - pos, "damaged record length"))
                    pos = skip_to
                    continue
                break
            skip_to = _resync(buf, pos)
            while skip_to == len(buf) and (more := f.read(want)):
                # No intact record after the damage in what was read: it may be the one the read
                # cut off. Look further before calling everything up to here damaged.
                buf, offset, pos = buf[pos:] + more, offset + pos, 0
                skip_to = _resync(buf, pos)
            if skip_to == len(buf) and not final:
                break  # nothing intact after it yet: the next read, with more written, decides
            result.damage.append(Damage(offset + pos, skip_to - pos, reason))
            pos = skip_to
        result.next_offset = offset + pos
        if len(result.records) < limit:
            result.incomplete_tail = len(buf) - pos  # else: the bytes after it were left unread
    return _torn_tail(result) if final else result


def _torn_tail(result: ReadResult) -> ReadResult:
    """A finished log's incomplete last record is damage."""
    if result.incomplete_tail:
        result.damage.append(
            Damage(result.next_offset, result.incomplete_tail, "torn tail (incomplete last record)")
        )
    return result


def iter_records(
    path: str | os.PathLike[str], offset: int = HEADER_SIZE, *, piece: int = _READ_CHUNK
) -> Iterator[Record]:
    """The intact records of a finished log from ``offset`` on, in order (damage is skipped
    silently), read ``piece`` bytes at a time: memory is bounded by a piece (or the largest
    record), not by the log."""
    while True:
        result = read_runlog(path, offset, final=True, max_bytes=piece)
        yield from result.records
        if result.next_offset <= offset:
            return  # the end, or a torn tail
        offset = result.next_offset


def find_runlog(run_dir: str | os.PathLike[str]) -> Path:
    """The run-log file inside a run directory."""
    logs = sorted(Path(run_dir).glob("run-*.wakelog"))
    if not logs:
        raise RunLogError(f"{run_dir}: no run-*.wakelog file in this directory")
    return logs[0]
