"""TensorBoard's own reader of tfevents files, shared by ``wakelog import tensorboard`` and the live sync.

Records are read with ``PyRecordReader_New`` from the ``tensorboard`` package, the reader
TensorBoard itself uses without TensorFlow: it checks both checksums of every record, and a record
cut off at the end of a file still being written is read whole by a later call once the writer
has finished it. Two of its parts cost more than all the rest in pure Python, so the reader gets
faster equivalents: the ``crc32c`` package's CRC-32C (the same function, in C; used when
installed, it is in the ``tensorboard`` extra) and a plain buffered file in place of its
``GFile`` (which reopens the file for every read past its buffer).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wakelog.errors import Error, UsageError


class DamagedRecord(Error):
    """A record whose checksum does not match: the file cannot be trusted past it."""


@dataclass(frozen=True)
class Library:
    event: Any  # the Event protobuf class
    errors: Any  # tensorboard.compat.tensorflow_stub.errors
    records: Any  # tensorboard.compat.tensorflow_stub.pywrap_tensorflow


_library: Library | None = None


def library() -> Library:
    """TensorBoard's reader and ``Event`` class; a ``UsageError`` saying what to install without them."""
    global _library
    if _library is None:
        try:
            from tensorboard.compat.proto.event_pb2 import Event
            from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow
        except ImportError:
            raise UsageError(
                "reading TensorBoard event files needs tensorboard: pip install 'wakelog[tensorboard]'"
            ) from None
        try:
            from crc32c import crc32c
        except ImportError:
            pass  # TensorBoard's own pure-Python CRC: the same result, slower
        else:
            pywrap_tensorflow.crc32c = crc32c  # its masked_crc32c calls this module-level function
        _library = Library(Event, errors, pywrap_tensorflow)
    return _library


class EventFile:
    """One event file's records in order, read as the file grows.

    ``next()`` returns the next whole record, or None at the end of what is written (a cut-off
    last record included: ``cut_off`` says so, and a later call reads it once it is whole);
    ``DamagedRecord`` when a checksum does not match.
    """

    def __init__(self, path: Path) -> None:
        lib = library()
        self._errors = lib.errors
        self.path = path
        self._reader = lib.records.PyRecordReader_New(os.fsencode(path), 0, None, None)
        self._file = open(path, "rb")  # noqa: SIM115 - lives as long as the reader
        self._reader.file_handle = self._file
        self.count = 0  # records read
        self.cut_off = False

    def next(self) -> bytes | None:
        try:
            self._reader.GetNext()
        except self._errors.OutOfRangeError:
            self.cut_off = False
            return None
        except self._errors.DataLossError as exc:
            if "truncated" not in str(exc):
                raise DamagedRecord(
                    f"{self.path}: record {self.count + 1} is damaged ({exc.message})"
                ) from None
            self.cut_off = True
            return None
        self.count += 1
        self.cut_off = False
        data: bytes = self._reader.record()
        return data

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EventFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_event_file(name: str) -> bool:
    return "tfevents" in name
