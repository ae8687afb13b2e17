"""TFRecord framing, the container of TensorBoard's tfevents files.

Each record is, little-endian: ``uint64 length``, ``uint32 masked_crc32c(length bytes)``,
``length`` bytes of data, ``uint32 masked_crc32c(data)``. A file being written ends, at any
moment, with a whole number of records followed by a possibly partial one: ``RecordReader``
returns the whole ones and waits at the partial one's start until the writer completes it. A
checksum that does not match over bytes that are all there is damage, not a write in progress.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from wakelog.errors import Error
from wakelog.integration.tensorboard._crc32c import masked_crc32c

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
#: Longest record read: a length beyond it is damage, not data (TensorBoard images stay far below).
MAX_RECORD = 256 * 1024 * 1024


class CorruptRecord(Error):
    """A tfevents record whose checksum does not match, or whose length cannot be right."""

    def __init__(self, path: str, offset: int, what: str) -> None:
        super().__init__(f"{path}: damaged record at byte {offset}: {what}")
        self.path, self.offset = path, offset


def encode_record(data: bytes) -> bytes:
    """One framed record (what a tfevents writer appends)."""
    length = struct.pack("<Q", len(data))
    return length + _FOOTER.pack(masked_crc32c(length)) + data + _FOOTER.pack(masked_crc32c(data))


def split_records(buffer: bytes, *, where: str = "<bytes>", base: int = 0) -> tuple[list[bytes], int]:
    """The whole records at the start of ``buffer`` and how many bytes they take.

    What follows them is an incomplete record (or nothing); ``CorruptRecord`` if a complete one is
    damaged. ``where`` and ``base`` only name the place in error messages.
    """
    records: list[bytes] = []
    pos = 0
    end = len(buffer)
    while end - pos >= _HEADER.size:
        length, length_crc = _HEADER.unpack_from(buffer, pos)
        if masked_crc32c(buffer[pos : pos + 8]) != length_crc:
            raise CorruptRecord(where, base + pos, "length checksum mismatch")
        if length > MAX_RECORD:
            raise CorruptRecord(where, base + pos, f"record of {length} bytes")
        start = pos + _HEADER.size
        stop = start + length
        if stop + _FOOTER.size > end:
            break  # the writer has not finished this record yet
        data = buffer[start:stop]
        (data_crc,) = _FOOTER.unpack_from(buffer, stop)
        if masked_crc32c(data) != data_crc:
            raise CorruptRecord(where, base + pos, "data checksum mismatch")
        records.append(data)
        pos = stop + _FOOTER.size
    return records, pos


@dataclass
class RecordReader:
    """Reads one tfevents file as it grows: each ``read()`` returns the records completed since."""

    path: Path
    offset: int = 0

    def read(self) -> list[bytes]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                buffer = f.read()
        except FileNotFoundError:
            return []
        records, used = split_records(buffer, where=str(self.path), base=self.offset)
        self.offset += used
        return records
