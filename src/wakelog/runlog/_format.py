"""The run-log file format (version 1), shared by the writer and the reader.

A run log is one append-only file::

    header   8 bytes   b"WKLG" | uint16 LE format version | uint16 LE reserved (0)
    record*  framed    uint32 LE payload length | uint32 LE CRC-32 | payload

The CRC-32 (IEEE, ``zlib.crc32``) covers the four length bytes and the payload, so a damaged
length is detected as surely as a damaged payload. The payload is a MessagePack array
``[seq, type, time, data]``: the run-local sequence number, the record type (see ``RecordType``),
the wall-clock time in seconds since the epoch, and the type's data. MessagePack keeps NaN and
±Inf floats exactly, which JSON cannot. ``docs/runlog.md`` is the prose version of this module.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import msgspec

MAGIC = b"WKLG"
FORMAT_VERSION = 1
HEADER = struct.Struct("<4sHH")
FRAME = struct.Struct("<II")
HEADER_SIZE = HEADER.size
FRAME_SIZE = FRAME.size
#: A length above this is treated as damage rather than trusted: no record is this large.
MAX_PAYLOAD = 64 * 1024 * 1024

_LENGTH = struct.Struct("<I")


class RecordType:
    """The record types a run log holds, and what their ``data`` is."""

    RUN = "run"  # run identity: id, project, entity, name, group, job_type, tags, notes, resumed…
    CONFIG = "config"  # {"update": {key: value}, "remove": [key…]}
    HISTORY = "history"  # one committed row: {key: value, "_step", "_runtime", "_timestamp"}
    SUMMARY = "summary"  # {"update": {key: value}, "remove": [key…]} set by the user
    METRIC = "metric"  # a define_metric definition
    STATS = "stats"  # one system-metrics sample: {"system/…": value, "_runtime", "_timestamp"}
    OUTPUT = "output"  # console lines: {"stream": "stdout"|"stderr", "lines": [[time, text]…]}
    FILES = "files"  # saved files: {"files": [{"name", "policy"}…]}
    METADATA = "metadata"  # the reproducibility metadata (also written to metadata.json)
    ALERT = "alert"  # {"title", "text", "level", "wait_duration"}
    EXIT = "exit"  # {"exit_code", "state", "traceback"?, "summary", "runtime"}
    ARTIFACT = "artifact"  # a logged artifact: {"id", "name", "type", "aliases", "digest", "manifest"…}
    USE_ARTIFACT = "use_artifact"  # {"artifact": "e/p/name:label" | "name:label" | None, "id"?: client id}
    LINK_ARTIFACT = "link_artifact"  # {"artifact" | "id", "entity"?, "collection", "aliases"}
    #: Never in a log: what an uploader sends in place of records the log lost to damage, at the
    #: first lost seq: {"last": the last lost seq, "reason": the damage}.
    LOST = "lost"


def encode_header() -> bytes:
    return HEADER.pack(MAGIC, FORMAT_VERSION, 0)


_encoder = msgspec.msgpack.Encoder()


def encode_frame(seq: int, record_type: str, time: float, data: Any) -> bytes:
    """One framed record, ready to append."""
    payload = _encoder.encode((seq, record_type, time, data))
    length = _LENGTH.pack(len(payload))
    return length + _LENGTH.pack(zlib.crc32(payload, zlib.crc32(length))) + payload


def frame_crc(length_bytes: bytes, payload: bytes | memoryview) -> int:
    return zlib.crc32(payload, zlib.crc32(length_bytes))
